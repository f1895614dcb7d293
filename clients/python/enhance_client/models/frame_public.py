from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FramePublic")


@_attrs_define
class FramePublic:
    """
    Attributes:
        index (int): the frame's index in the video (0 for an image)
        time (float | None): seconds from the start
        size (list[int] | None): enhanced width and height
        source_url (str): the decoded source frame (PNG)
        enhanced_url (str): the enhanced frame (PNG)
        thumbnail_url (str): a small JPEG of the enhanced frame
    """

    index: int
    time: float | None
    size: list[int] | None
    source_url: str
    enhanced_url: str
    thumbnail_url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        index = self.index

        time: float | None
        time = self.time

        size: list[int] | None
        if isinstance(self.size, list):
            size = self.size

        else:
            size = self.size

        source_url = self.source_url

        enhanced_url = self.enhanced_url

        thumbnail_url = self.thumbnail_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
                "time": time,
                "size": size,
                "source_url": source_url,
                "enhanced_url": enhanced_url,
                "thumbnail_url": thumbnail_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        index = d.pop("index")

        def _parse_time(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        time = _parse_time(d.pop("time"))

        def _parse_size(data: object) -> list[int] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                size_type_0 = cast(list[int], data)

                return size_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None, data)

        size = _parse_size(d.pop("size"))

        source_url = d.pop("source_url")

        enhanced_url = d.pop("enhanced_url")

        thumbnail_url = d.pop("thumbnail_url")

        frame_public = cls(
            index=index,
            time=time,
            size=size,
            source_url=source_url,
            enhanced_url=enhanced_url,
            thumbnail_url=thumbnail_url,
        )

        frame_public.additional_properties = d
        return frame_public

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
