from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ArtifactPublic")


@_attrs_define
class ArtifactPublic:
    """
    Attributes:
        name (str):
        size (int):
        sha256 (str):
        media_type (str):
        url (str):
    """

    name: str
    size: int
    sha256: str
    media_type: str
    url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        size = self.size

        sha256 = self.sha256

        media_type = self.media_type

        url = self.url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "size": size,
                "sha256": sha256,
                "media_type": media_type,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        size = d.pop("size")

        sha256 = d.pop("sha256")

        media_type = d.pop("media_type")

        url = d.pop("url")

        artifact_public = cls(
            name=name,
            size=size,
            sha256=sha256,
            media_type=media_type,
            url=url,
        )

        artifact_public.additional_properties = d
        return artifact_public

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
