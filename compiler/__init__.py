"""sophia-iac: declarative YAML specs -> Pulumi programs, Pulumi ESC environments and GitHub workflows."""

__version__ = "0.1.0"
