from enum import StrEnum


class JobPublicFiles(StrEnum):
    ARTIFACTS_ONLY = "artifacts_only"
    DELETED = "deleted"
    KEPT = "kept"

    def __str__(self) -> str:
        return str(self.value)
