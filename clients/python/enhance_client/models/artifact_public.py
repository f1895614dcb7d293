from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

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
        signed_url (None | str | Unset): with API keys: the same URL with a short-lived signature
            (ENHANCE_SIGNED_LINK_SECONDS), which opens without a key: for a browser tab, a download link or a colleague
    """

    name: str
    size: int
    sha256: str
    media_type: str
    url: str
    signed_url: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        size = self.size

        sha256 = self.sha256

        media_type = self.media_type

        url = self.url

        signed_url: None | str | Unset
        if isinstance(self.signed_url, Unset):
            signed_url = UNSET
        else:
            signed_url = self.signed_url

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
        if signed_url is not UNSET:
            field_dict["signed_url"] = signed_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        size = d.pop("size")

        sha256 = d.pop("sha256")

        media_type = d.pop("media_type")

        url = d.pop("url")

        def _parse_signed_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        signed_url = _parse_signed_url(d.pop("signed_url", UNSET))

        artifact_public = cls(
            name=name,
            size=size,
            sha256=sha256,
            media_type=media_type,
            url=url,
            signed_url=signed_url,
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
