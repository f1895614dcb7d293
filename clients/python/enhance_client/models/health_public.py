from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.health_public_detail import HealthPublicDetail


T = TypeVar("T", bound="HealthPublic")


@_attrs_define
class HealthPublic:
    """
    Attributes:
        status (str):
        detail (HealthPublicDetail | Unset):
    """

    status: str
    detail: HealthPublicDetail | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        detail: dict[str, Any] | Unset = UNSET
        if not isinstance(self.detail, Unset):
            detail = self.detail.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.health_public_detail import HealthPublicDetail  # noqa: PLC0415

        d = dict(src_dict)
        status = d.pop("status")

        _detail = d.pop("detail", UNSET)
        detail: HealthPublicDetail | Unset
        if isinstance(_detail, Unset):
            detail = UNSET
        else:
            detail = HealthPublicDetail.from_dict(_detail)

        health_public = cls(
            status=status,
            detail=detail,
        )

        health_public.additional_properties = d
        return health_public

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
