"""Where a resource sits in the stack tree: the one value for the `Stack.LogicalId` form that
plans, events, drift, stack policies and `ContinueUpdateRollback` use."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ResourcePath:
    stack: str  # "" for the root stack, else the nested stack's path ("Dynamodb", "A.B")
    logical_id: str

    def __str__(self) -> str:
        return f"{self.stack}.{self.logical_id}" if self.stack else self.logical_id

    @property
    def depth(self) -> int:
        return 0 if not self.stack else self.stack.count(".") + 1

    @property
    def nested_stack(self) -> str:
        """The path of the stack this resource is, when it is a nested stack."""
        return str(self)

    def named_by(self, names: set[str]) -> bool:
        """Whether the user named it, plainly (`ConsentTable`) or qualified
        (`Dynamodb.ConsentTable`)."""
        return self.logical_id in names or str(self) in names
