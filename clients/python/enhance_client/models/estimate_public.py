from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.estimate_public_counted_item import EstimatePublicCountedItem
from ..models.estimate_public_source import EstimatePublicSource

T = TypeVar("T", bound="EstimatePublic")


@_attrs_define
class EstimatePublic:
    """What the job should cost before it runs: frames (or photos) x one frame's time on this device.

    Attributes:
        frames (int | None): frames (or photos) to restore; null: not known before decoding; an album: its usable photos
            (keep=best: the select_best largest), at most what it restores
        width (int): input frame width, in pixels (an album: its largest photo's)
        height (int): input frame height, in pixels (an album: its largest photo's)
        model (None | str): the upscaler counted; null: model=none (no upscaler to count)
        seconds_per_frame (float | None): device seconds one frame takes (an album: the mean over its photos, each at
            its size); null: unknown
        seconds (float | None): frames x seconds_per_frame; null: unknown
        source (EstimatePublicSource): the upscaler's time: `measured`, the model's own calls in this server process;
            `catalogue`, before it has run here, the catalogue's per-megapixel prior measured on the project's CPU (used on
            a CPU only); `unknown`: neither
        counted (list[EstimatePublicCountedItem]): what seconds_per_frame counts: `upscale`; `deblur` (deblur=on with a
            deblur model) and `interpolate` (the frames made between two) once their model has run in this process; `frame`,
            the cost of every frame besides its models (decoding, PNGs, thumbnails, bookkeeping). Not counted: deblur=auto,
            denoise, low light, an album's scoring
    """

    frames: int | None
    width: int
    height: int
    model: None | str
    seconds_per_frame: float | None
    seconds: float | None
    source: EstimatePublicSource
    counted: list[EstimatePublicCountedItem]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        frames: int | None
        frames = self.frames

        width = self.width

        height = self.height

        model: None | str
        model = self.model

        seconds_per_frame: float | None
        seconds_per_frame = self.seconds_per_frame

        seconds: float | None
        seconds = self.seconds

        source = self.source.value

        counted = []
        for counted_item_data in self.counted:
            counted_item = counted_item_data.value
            counted.append(counted_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frames": frames,
                "width": width,
                "height": height,
                "model": model,
                "seconds_per_frame": seconds_per_frame,
                "seconds": seconds,
                "source": source,
                "counted": counted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_frames(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        frames = _parse_frames(d.pop("frames"))

        width = d.pop("width")

        height = d.pop("height")

        def _parse_model(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        model = _parse_model(d.pop("model"))

        def _parse_seconds_per_frame(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        seconds_per_frame = _parse_seconds_per_frame(d.pop("seconds_per_frame"))

        def _parse_seconds(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        seconds = _parse_seconds(d.pop("seconds"))

        source = EstimatePublicSource(d.pop("source"))

        counted = []
        _counted = d.pop("counted")
        for counted_item_data in _counted:
            counted_item = EstimatePublicCountedItem(counted_item_data)

            counted.append(counted_item)

        estimate_public = cls(
            frames=frames,
            width=width,
            height=height,
            model=model,
            seconds_per_frame=seconds_per_frame,
            seconds=seconds,
            source=source,
            counted=counted,
        )

        estimate_public.additional_properties = d
        return estimate_public

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
