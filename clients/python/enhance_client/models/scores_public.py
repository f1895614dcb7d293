from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.score_public import ScorePublic
    from ..models.scores_public_thresholds import ScoresPublicThresholds


T = TypeVar("T", bound="ScoresPublic")


@_attrs_define
class ScoresPublic:
    """
    Attributes:
        data (list[ScorePublic]):
        count (int):
        thresholds (ScoresPublicThresholds):
    """

    data: list[ScorePublic]
    count: int
    thresholds: ScoresPublicThresholds
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)

        count = self.count

        thresholds = self.thresholds.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
                "count": count,
                "thresholds": thresholds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.score_public import ScorePublic  # noqa: PLC0415
        from ..models.scores_public_thresholds import ScoresPublicThresholds  # noqa: PLC0415

        d = dict(src_dict)
        data = []
        _data = d.pop("data")
        for data_item_data in _data:
            data_item = ScorePublic.from_dict(data_item_data)

            data.append(data_item)

        count = d.pop("count")

        thresholds = ScoresPublicThresholds.from_dict(d.pop("thresholds"))

        scores_public = cls(
            data=data,
            count=count,
            thresholds=thresholds,
        )

        scores_public.additional_properties = d
        return scores_public

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
