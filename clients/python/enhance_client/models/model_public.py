from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.weight_state import WeightState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.model_public_denoise_levels import ModelPublicDenoiseLevels


T = TypeVar("T", bound="ModelPublic")


@_attrs_define
class ModelPublic:
    """
    Attributes:
        id (str):
        task (str):
        architecture (str):
        scale (float):
        description (str):
        license_ (str):
        file (str):
        sha256 (str): pinned checksum of the weight file; empty when upstream publishes none
        weights (WeightState):
        loaded (bool):
        device (None | str | Unset):
        dtype (None | str | Unset):
        channels_last (bool | None | Unset):
        default (bool | Unset):  Default: False.
        default_for_video (bool | Unset): what video jobs that name no model run Default: False.
        good_for (list[str] | Unset): photos, anime, video, denoise
        speed (None | str | Unset): fast, medium or slow per frame (README: Choosing a model has the seconds)
        denoise (int | None | Unset): the denoise level this entry runs (0: none)
        denoise_levels (ModelPublicDenoiseLevels | Unset): the `denoise` option's levels for this model, each with the
            entry it runs; empty: no option
        origin (str | Unset): the official release the weights come from Default: ''.
        temporal (bool | Unset): a video model that restores each frame from its neighbours (BasicVSR): it runs on a
            video in overlapping windows of frames, not one frame at a time Default: False.
    """

    id: str
    task: str
    architecture: str
    scale: float
    description: str
    license_: str
    file: str
    sha256: str
    weights: WeightState
    loaded: bool
    device: None | str | Unset = UNSET
    dtype: None | str | Unset = UNSET
    channels_last: bool | None | Unset = UNSET
    default: bool | Unset = False
    default_for_video: bool | Unset = False
    good_for: list[str] | Unset = UNSET
    speed: None | str | Unset = UNSET
    denoise: int | None | Unset = UNSET
    denoise_levels: ModelPublicDenoiseLevels | Unset = UNSET
    origin: str | Unset = ""
    temporal: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        task = self.task

        architecture = self.architecture

        scale = self.scale

        description = self.description

        license_ = self.license_

        file = self.file

        sha256 = self.sha256

        weights = self.weights.value

        loaded = self.loaded

        device: None | str | Unset
        if isinstance(self.device, Unset):
            device = UNSET
        else:
            device = self.device

        dtype: None | str | Unset
        if isinstance(self.dtype, Unset):
            dtype = UNSET
        else:
            dtype = self.dtype

        channels_last: bool | None | Unset
        if isinstance(self.channels_last, Unset):
            channels_last = UNSET
        else:
            channels_last = self.channels_last

        default = self.default

        default_for_video = self.default_for_video

        good_for: list[str] | Unset = UNSET
        if not isinstance(self.good_for, Unset):
            good_for = self.good_for

        speed: None | str | Unset
        if isinstance(self.speed, Unset):
            speed = UNSET
        else:
            speed = self.speed

        denoise: int | None | Unset
        if isinstance(self.denoise, Unset):
            denoise = UNSET
        else:
            denoise = self.denoise

        denoise_levels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.denoise_levels, Unset):
            denoise_levels = self.denoise_levels.to_dict()

        origin = self.origin

        temporal = self.temporal

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "task": task,
                "architecture": architecture,
                "scale": scale,
                "description": description,
                "license": license_,
                "file": file,
                "sha256": sha256,
                "weights": weights,
                "loaded": loaded,
            }
        )
        if device is not UNSET:
            field_dict["device"] = device
        if dtype is not UNSET:
            field_dict["dtype"] = dtype
        if channels_last is not UNSET:
            field_dict["channels_last"] = channels_last
        if default is not UNSET:
            field_dict["default"] = default
        if default_for_video is not UNSET:
            field_dict["default_for_video"] = default_for_video
        if good_for is not UNSET:
            field_dict["good_for"] = good_for
        if speed is not UNSET:
            field_dict["speed"] = speed
        if denoise is not UNSET:
            field_dict["denoise"] = denoise
        if denoise_levels is not UNSET:
            field_dict["denoise_levels"] = denoise_levels
        if origin is not UNSET:
            field_dict["origin"] = origin
        if temporal is not UNSET:
            field_dict["temporal"] = temporal

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_public_denoise_levels import ModelPublicDenoiseLevels  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        task = d.pop("task")

        architecture = d.pop("architecture")

        scale = d.pop("scale")

        description = d.pop("description")

        license_ = d.pop("license")

        file = d.pop("file")

        sha256 = d.pop("sha256")

        weights = WeightState(d.pop("weights"))

        loaded = d.pop("loaded")

        def _parse_device(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device = _parse_device(d.pop("device", UNSET))

        def _parse_dtype(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        dtype = _parse_dtype(d.pop("dtype", UNSET))

        def _parse_channels_last(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        channels_last = _parse_channels_last(d.pop("channels_last", UNSET))

        default = d.pop("default", UNSET)

        default_for_video = d.pop("default_for_video", UNSET)

        good_for = cast(list[str], d.pop("good_for", UNSET))

        def _parse_speed(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        speed = _parse_speed(d.pop("speed", UNSET))

        def _parse_denoise(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        denoise = _parse_denoise(d.pop("denoise", UNSET))

        _denoise_levels = d.pop("denoise_levels", UNSET)
        denoise_levels: ModelPublicDenoiseLevels | Unset
        if isinstance(_denoise_levels, Unset):
            denoise_levels = UNSET
        else:
            denoise_levels = ModelPublicDenoiseLevels.from_dict(_denoise_levels)

        origin = d.pop("origin", UNSET)

        temporal = d.pop("temporal", UNSET)

        model_public = cls(
            id=id,
            task=task,
            architecture=architecture,
            scale=scale,
            description=description,
            license_=license_,
            file=file,
            sha256=sha256,
            weights=weights,
            loaded=loaded,
            device=device,
            dtype=dtype,
            channels_last=channels_last,
            default=default,
            default_for_video=default_for_video,
            good_for=good_for,
            speed=speed,
            denoise=denoise,
            denoise_levels=denoise_levels,
            origin=origin,
            temporal=temporal,
        )

        model_public.additional_properties = d
        return model_public

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
