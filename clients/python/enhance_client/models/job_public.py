from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_kind import JobKind
from ..models.job_public_files import JobPublicFiles
from ..models.job_status import JobStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.artifact_public import ArtifactPublic
    from ..models.estimate_public import EstimatePublic
    from ..models.job_options import JobOptions
    from ..models.job_public_links import JobPublicLinks
    from ..models.progress_public import ProgressPublic
    from ..models.webhook_public import WebhookPublic


T = TypeVar("T", bound="JobPublic")


@_attrs_define
class JobPublic:
    """
    Attributes:
        id (str):
        status (JobStatus):
        kind (JobKind):
        input_name (str):
        options (JobOptions): What a job is asked to do. Declared once: the job route takes it as its form
            (`Annotated[JobOptions,
            Form()]`), the CLI validates into it, the store keeps it and `JobPublic.options` returns it.
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        started_at (datetime.datetime | None):
        finished_at (datetime.datetime | None):
        progress (ProgressPublic):
        error (None | str):
        cancel_requested (bool):
        attempts (int):
        worker_id (None | str):
        artifacts (list[ArtifactPublic]):
        files (JobPublicFiles): the job's files on the server: `kept`; `deleted` when it ended cancelled or failed (its
            links answer 410; ENHANCE_KEEP_FAILED_JOB_FILES=true keeps them); `artifacts_only` when it failed part-way and
            kept only the artifacts it published
        links (JobPublicLinks):
        webhook (None | Unset | WebhookPublic): the webhook's delivery, when the job has one
        estimate (EstimatePublic | None | Unset): the cost before work, made at submit (`counted` says which parts;
            ENHANCE_MAX_JOB_ESTIMATE_SECONDS refuses jobs over a limit); null for a job from before estimates
    """

    id: str
    status: JobStatus
    kind: JobKind
    input_name: str
    options: JobOptions
    created_at: datetime.datetime
    updated_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    progress: ProgressPublic
    error: None | str
    cancel_requested: bool
    attempts: int
    worker_id: None | str
    artifacts: list[ArtifactPublic]
    files: JobPublicFiles
    links: JobPublicLinks
    webhook: None | Unset | WebhookPublic = UNSET
    estimate: EstimatePublic | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.estimate_public import EstimatePublic  # noqa: PLC0415
        from ..models.webhook_public import WebhookPublic  # noqa: PLC0415

        id = self.id

        status = self.status.value

        kind = self.kind.value

        input_name = self.input_name

        options = self.options.to_dict()

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        progress = self.progress.to_dict()

        error: None | str
        error = self.error

        cancel_requested = self.cancel_requested

        attempts = self.attempts

        worker_id: None | str
        worker_id = self.worker_id

        artifacts = []
        for artifacts_item_data in self.artifacts:
            artifacts_item = artifacts_item_data.to_dict()
            artifacts.append(artifacts_item)

        files = self.files.value

        links = self.links.to_dict()

        webhook: dict[str, Any] | None | Unset
        if isinstance(self.webhook, Unset):
            webhook = UNSET
        elif isinstance(self.webhook, WebhookPublic):
            webhook = self.webhook.to_dict()
        else:
            webhook = self.webhook

        estimate: dict[str, Any] | None | Unset
        if isinstance(self.estimate, Unset):
            estimate = UNSET
        elif isinstance(self.estimate, EstimatePublic):
            estimate = self.estimate.to_dict()
        else:
            estimate = self.estimate

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status": status,
                "kind": kind,
                "input_name": input_name,
                "options": options,
                "created_at": created_at,
                "updated_at": updated_at,
                "started_at": started_at,
                "finished_at": finished_at,
                "progress": progress,
                "error": error,
                "cancel_requested": cancel_requested,
                "attempts": attempts,
                "worker_id": worker_id,
                "artifacts": artifacts,
                "files": files,
                "links": links,
            }
        )
        if webhook is not UNSET:
            field_dict["webhook"] = webhook
        if estimate is not UNSET:
            field_dict["estimate"] = estimate

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.artifact_public import ArtifactPublic  # noqa: PLC0415
        from ..models.estimate_public import EstimatePublic  # noqa: PLC0415
        from ..models.job_options import JobOptions  # noqa: PLC0415
        from ..models.job_public_links import JobPublicLinks  # noqa: PLC0415
        from ..models.progress_public import ProgressPublic  # noqa: PLC0415
        from ..models.webhook_public import WebhookPublic  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        status = JobStatus(d.pop("status"))

        kind = JobKind(d.pop("kind"))

        input_name = d.pop("input_name")

        options = JobOptions.from_dict(d.pop("options"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        progress = ProgressPublic.from_dict(d.pop("progress"))

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        cancel_requested = d.pop("cancel_requested")

        attempts = d.pop("attempts")

        def _parse_worker_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        worker_id = _parse_worker_id(d.pop("worker_id"))

        artifacts = []
        _artifacts = d.pop("artifacts")
        for artifacts_item_data in _artifacts:
            artifacts_item = ArtifactPublic.from_dict(artifacts_item_data)

            artifacts.append(artifacts_item)

        files = JobPublicFiles(d.pop("files"))

        links = JobPublicLinks.from_dict(d.pop("links"))

        def _parse_webhook(data: object) -> None | Unset | WebhookPublic:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                webhook_type_0 = WebhookPublic.from_dict(data)

                return webhook_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | WebhookPublic, data)

        webhook = _parse_webhook(d.pop("webhook", UNSET))

        def _parse_estimate(data: object) -> EstimatePublic | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                estimate_type_0 = EstimatePublic.from_dict(data)

                return estimate_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EstimatePublic | None | Unset, data)

        estimate = _parse_estimate(d.pop("estimate", UNSET))

        job_public = cls(
            id=id,
            status=status,
            kind=kind,
            input_name=input_name,
            options=options,
            created_at=created_at,
            updated_at=updated_at,
            started_at=started_at,
            finished_at=finished_at,
            progress=progress,
            error=error,
            cancel_requested=cancel_requested,
            attempts=attempts,
            worker_id=worker_id,
            artifacts=artifacts,
            files=files,
            links=links,
            webhook=webhook,
            estimate=estimate,
        )

        job_public.additional_properties = d
        return job_public

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
