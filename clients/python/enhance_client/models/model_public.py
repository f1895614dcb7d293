from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.weight_state import WeightState
from ..types import UNSET, Unset

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

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
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
