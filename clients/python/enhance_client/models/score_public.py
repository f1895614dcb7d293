from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.verdict import Verdict

if TYPE_CHECKING:
    from ..models.score_public_scores import ScorePublicScores


T = TypeVar("T", bound="ScorePublic")


@_attrs_define
class ScorePublic:
    """
    Attributes:
        filename (str):
        width (int):
        height (int):
        verdict (Verdict):
        reasons (list[str]):
        quality (float): overall quality, 0..1
        scores (ScorePublicScores):
    """

    filename: str
    width: int
    height: int
    verdict: Verdict
    reasons: list[str]
    quality: float
    scores: ScorePublicScores
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        filename = self.filename

        width = self.width

        height = self.height

        verdict = self.verdict.value

        reasons = self.reasons

        quality = self.quality

        scores = self.scores.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "filename": filename,
                "width": width,
                "height": height,
                "verdict": verdict,
                "reasons": reasons,
                "quality": quality,
                "scores": scores,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.score_public_scores import ScorePublicScores  # noqa: PLC0415

        d = dict(src_dict)
        filename = d.pop("filename")

        width = d.pop("width")

        height = d.pop("height")

        verdict = Verdict(d.pop("verdict"))

        reasons = cast(list[str], d.pop("reasons"))

        quality = d.pop("quality")

        scores = ScorePublicScores.from_dict(d.pop("scores"))

        score_public = cls(
            filename=filename,
            width=width,
            height=height,
            verdict=verdict,
            reasons=reasons,
            quality=quality,
            scores=scores,
        )

        score_public.additional_properties = d
        return score_public

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
