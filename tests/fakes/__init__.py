"""Fakes of the services the integration test runner checks, served on 127.0.0.1 by the tests themselves."""
