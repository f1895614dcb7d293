from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..models.body_create_job_codec import BodyCreateJobCodec
from ..models.body_create_job_container_type_0 import BodyCreateJobContainerType0
from ..models.body_create_job_duplicates import BodyCreateJobDuplicates
from ..models.body_create_job_interpolate_type_0 import BodyCreateJobInterpolateType0
from ..models.body_create_job_keep import BodyCreateJobKeep
from ..models.body_create_job_pix_fmt_type_0 import BodyCreateJobPixFmtType0
from ..models.deblur_mode import DeblurMode
from ..models.denoise_mode import DenoiseMode
from ..models.gif_layout import GifLayout
from ..models.light_mode import LightMode
from ..models.output import Output
from ..types import UNSET, File, FileTypes, Unset

T = TypeVar("T", bound="BodyCreateJob")


@_attrs_define
class BodyCreateJob:
    """
    Attributes:
        model (None | str | Unset): upscaler catalogue id (GET /v1/models); `none`: only denoise and/or deblur; default:
            the service's
        scale (float | None | Unset): output scale; default: the model's
        tile (int | None | Unset): tile core size in input pixels; 0: automatic
        denoise (int | None | Unset): Real-CUGAN and waifu2x: denoise strength, 0 (none) to 3, among the levels the
            model has (GET /v1/models lists them); refused for other models
        light (LightMode | Unset):
        denoise_photo (DenoiseMode | Unset):
        denoise_sigma (float | None | Unset): the noise level (sigma, 0..255 scale) to remove; default: estimated per
            picture
        deblur (DeblurMode | Unset):
        deblur_model (None | str | Unset): deblur catalogue id or `classical`
        frames (list[int] | None | Unset): decode-order frame indices, e.g. 0,30,60
        every_n (int | None | Unset): keep every n-th frame
        start (float | None | Unset): first second to consider
        end (float | None | Unset): last second to consider (exclusive)
        max_frames (int | None | Unset): stop after this many frames
        select_best (int | None | Unset): score the selected frames and keep only the K best, spread in time
        keep (BodyCreateJobKeep | Unset): albums: every photo, the photos whose verdict is keep, or the best
            `select_best` (default 1) Default: BodyCreateJobKeep.GOOD.
        duplicates (BodyCreateJobDuplicates | Unset): albums: near-duplicates (bursts) keep only their best shot, or all
            of them Default: BodyCreateJobDuplicates.DROP.
        interpolate (BodyCreateJobInterpolateType0 | None | Unset): video jobs: the enhanced video with 2 or 4 times as
            many frames (RIFE makes those between each two enhanced frames; never across a scene cut, where the frame is
            held; repeated frames are copied); with every_n=2 (or 4), interpolate=2 (or 4) plays at the source's frame rate;
            with model=none, interpolation only
        outputs (list[Output] | Unset): any of frames (PNGs + frames.zip), gif, video (enhanced.mp4, or as
            codec/container say)
        gif_layout (GifLayout | Unset):
        gif_fps (float | Unset): the comparison GIF's frame rate Default: 2.0.
        gif_max_width (int | Unset): the comparison GIF's widest, in pixels Default: 640.
        codec (BodyCreateJobCodec | Unset): video codec of the enhanced video (those this server encodes); h264_nvenc,
            hevc_nvenc, av1_nvenc: on the GPU's NVENC, accepted only where this host has one (crf is their cq, presets
            p1..p7) Default: BodyCreateJobCodec.H264.
        container (BodyCreateJobContainerType0 | None | Unset): mp4, mkv, webm or mov; default: h264/hevc/av1 mp4, vp9
            webm, prores mov, ffv1 mkv
        pix_fmt (BodyCreateJobPixFmtType0 | None | Unset): 8- or 10-bit (yuv420p10le ...); default: yuv420p (prores:
            yuv422p10le)
        crf (int | None | Unset): quality, lower is better: h264/hevc 0-51, av1 1-63, vp9 0-63
        preset (None | str | Unset): h264/hevc ultrafast..veryslow, av1 0-13, vp9 realtime/good/best, prores
            proxy..4444xq
        file (list[File] | Unset): a video (mp4, mov, mkv, webm, avi) or an image; several photos, or a zip of photos,
            make an album job (keep, select_best and duplicates choose which are enhanced); or send `url`
        url (None | str | Unset): instead of `file`: an http(s) URL of the video, image or zip, which the server
            downloads (public hosts only, unless ENHANCE_URL_INPUT_ALLOW lists them; redirects re-checked; the job upload's
            size cap; ENHANCE_URL_INPUT_TIMEOUT_SECONDS)
        callback_url (None | str | Unset): when the job ends, a signed JSON event is POSTed here (public http(s) hosts
            only, unless the server allows others); retried with backoff, visible as the job's `webhook`
    """

    model: None | str | Unset = UNSET
    scale: float | None | Unset = UNSET
    tile: int | None | Unset = UNSET
    denoise: int | None | Unset = UNSET
    light: LightMode | Unset = UNSET
    denoise_photo: DenoiseMode | Unset = UNSET
    denoise_sigma: float | None | Unset = UNSET
    deblur: DeblurMode | Unset = UNSET
    deblur_model: None | str | Unset = UNSET
    frames: list[int] | None | Unset = UNSET
    every_n: int | None | Unset = UNSET
    start: float | None | Unset = UNSET
    end: float | None | Unset = UNSET
    max_frames: int | None | Unset = UNSET
    select_best: int | None | Unset = UNSET
    keep: BodyCreateJobKeep | Unset = BodyCreateJobKeep.GOOD
    duplicates: BodyCreateJobDuplicates | Unset = BodyCreateJobDuplicates.DROP
    interpolate: BodyCreateJobInterpolateType0 | None | Unset = UNSET
    outputs: list[Output] | Unset = UNSET
    gif_layout: GifLayout | Unset = UNSET
    gif_fps: float | Unset = 2.0
    gif_max_width: int | Unset = 640
    codec: BodyCreateJobCodec | Unset = BodyCreateJobCodec.H264
    container: BodyCreateJobContainerType0 | None | Unset = UNSET
    pix_fmt: BodyCreateJobPixFmtType0 | None | Unset = UNSET
    crf: int | None | Unset = UNSET
    preset: None | str | Unset = UNSET
    file: list[File] | Unset = UNSET
    url: None | str | Unset = UNSET
    callback_url: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        scale: float | None | Unset
        if isinstance(self.scale, Unset):
            scale = UNSET
        else:
            scale = self.scale

        tile: int | None | Unset
        if isinstance(self.tile, Unset):
            tile = UNSET
        else:
            tile = self.tile

        denoise: int | None | Unset
        if isinstance(self.denoise, Unset):
            denoise = UNSET
        else:
            denoise = self.denoise

        light: str | Unset = UNSET
        if not isinstance(self.light, Unset):
            light = self.light.value

        denoise_photo: str | Unset = UNSET
        if not isinstance(self.denoise_photo, Unset):
            denoise_photo = self.denoise_photo.value

        denoise_sigma: float | None | Unset
        if isinstance(self.denoise_sigma, Unset):
            denoise_sigma = UNSET
        else:
            denoise_sigma = self.denoise_sigma

        deblur: str | Unset = UNSET
        if not isinstance(self.deblur, Unset):
            deblur = self.deblur.value

        deblur_model: None | str | Unset
        if isinstance(self.deblur_model, Unset):
            deblur_model = UNSET
        else:
            deblur_model = self.deblur_model

        frames: list[int] | None | Unset
        if isinstance(self.frames, Unset):
            frames = UNSET
        elif isinstance(self.frames, list):
            frames = self.frames

        else:
            frames = self.frames

        every_n: int | None | Unset
        if isinstance(self.every_n, Unset):
            every_n = UNSET
        else:
            every_n = self.every_n

        start: float | None | Unset
        if isinstance(self.start, Unset):
            start = UNSET
        else:
            start = self.start

        end: float | None | Unset
        if isinstance(self.end, Unset):
            end = UNSET
        else:
            end = self.end

        max_frames: int | None | Unset
        if isinstance(self.max_frames, Unset):
            max_frames = UNSET
        else:
            max_frames = self.max_frames

        select_best: int | None | Unset
        if isinstance(self.select_best, Unset):
            select_best = UNSET
        else:
            select_best = self.select_best

        keep: str | Unset = UNSET
        if not isinstance(self.keep, Unset):
            keep = self.keep.value

        duplicates: str | Unset = UNSET
        if not isinstance(self.duplicates, Unset):
            duplicates = self.duplicates.value

        interpolate: int | None | Unset
        if isinstance(self.interpolate, Unset):
            interpolate = UNSET
        elif isinstance(self.interpolate, BodyCreateJobInterpolateType0):
            interpolate = self.interpolate.value
        else:
            interpolate = self.interpolate

        outputs: list[str] | Unset = UNSET
        if not isinstance(self.outputs, Unset):
            outputs = []
            for outputs_item_data in self.outputs:
                outputs_item = outputs_item_data.value
                outputs.append(outputs_item)

        gif_layout: str | Unset = UNSET
        if not isinstance(self.gif_layout, Unset):
            gif_layout = self.gif_layout.value

        gif_fps = self.gif_fps

        gif_max_width = self.gif_max_width

        codec: str | Unset = UNSET
        if not isinstance(self.codec, Unset):
            codec = self.codec.value

        container: None | str | Unset
        if isinstance(self.container, Unset):
            container = UNSET
        elif isinstance(self.container, BodyCreateJobContainerType0):
            container = self.container.value
        else:
            container = self.container

        pix_fmt: None | str | Unset
        if isinstance(self.pix_fmt, Unset):
            pix_fmt = UNSET
        elif isinstance(self.pix_fmt, BodyCreateJobPixFmtType0):
            pix_fmt = self.pix_fmt.value
        else:
            pix_fmt = self.pix_fmt

        crf: int | None | Unset
        if isinstance(self.crf, Unset):
            crf = UNSET
        else:
            crf = self.crf

        preset: None | str | Unset
        if isinstance(self.preset, Unset):
            preset = UNSET
        else:
            preset = self.preset

        file: list[FileTypes] | Unset = UNSET
        if not isinstance(self.file, Unset):
            file = []
            for file_item_data in self.file:
                file_item = file_item_data.to_tuple()

                file.append(file_item)

        url: None | str | Unset
        if isinstance(self.url, Unset):
            url = UNSET
        else:
            url = self.url

        callback_url: None | str | Unset
        if isinstance(self.callback_url, Unset):
            callback_url = UNSET
        else:
            callback_url = self.callback_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if model is not UNSET:
            field_dict["model"] = model
        if scale is not UNSET:
            field_dict["scale"] = scale
        if tile is not UNSET:
            field_dict["tile"] = tile
        if denoise is not UNSET:
            field_dict["denoise"] = denoise
        if light is not UNSET:
            field_dict["light"] = light
        if denoise_photo is not UNSET:
            field_dict["denoise_photo"] = denoise_photo
        if denoise_sigma is not UNSET:
            field_dict["denoise_sigma"] = denoise_sigma
        if deblur is not UNSET:
            field_dict["deblur"] = deblur
        if deblur_model is not UNSET:
            field_dict["deblur_model"] = deblur_model
        if frames is not UNSET:
            field_dict["frames"] = frames
        if every_n is not UNSET:
            field_dict["every_n"] = every_n
        if start is not UNSET:
            field_dict["start"] = start
        if end is not UNSET:
            field_dict["end"] = end
        if max_frames is not UNSET:
            field_dict["max_frames"] = max_frames
        if select_best is not UNSET:
            field_dict["select_best"] = select_best
        if keep is not UNSET:
            field_dict["keep"] = keep
        if duplicates is not UNSET:
            field_dict["duplicates"] = duplicates
        if interpolate is not UNSET:
            field_dict["interpolate"] = interpolate
        if outputs is not UNSET:
            field_dict["outputs"] = outputs
        if gif_layout is not UNSET:
            field_dict["gif_layout"] = gif_layout
        if gif_fps is not UNSET:
            field_dict["gif_fps"] = gif_fps
        if gif_max_width is not UNSET:
            field_dict["gif_max_width"] = gif_max_width
        if codec is not UNSET:
            field_dict["codec"] = codec
        if container is not UNSET:
            field_dict["container"] = container
        if pix_fmt is not UNSET:
            field_dict["pix_fmt"] = pix_fmt
        if crf is not UNSET:
            field_dict["crf"] = crf
        if preset is not UNSET:
            field_dict["preset"] = preset
        if file is not UNSET:
            field_dict["file"] = file
        if url is not UNSET:
            field_dict["url"] = url
        if callback_url is not UNSET:
            field_dict["callback_url"] = callback_url

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        if not isinstance(self.model, Unset):
            if isinstance(self.model, str):
                files.append(("model", (None, str(self.model).encode(), "text/plain")))
            else:
                files.append(("model", (None, str(self.model).encode(), "text/plain")))

        if not isinstance(self.scale, Unset):
            if isinstance(self.scale, float):
                files.append(("scale", (None, str(self.scale).encode(), "text/plain")))
            else:
                files.append(("scale", (None, str(self.scale).encode(), "text/plain")))

        if not isinstance(self.tile, Unset):
            if isinstance(self.tile, int):
                files.append(("tile", (None, str(self.tile).encode(), "text/plain")))
            else:
                files.append(("tile", (None, str(self.tile).encode(), "text/plain")))

        if not isinstance(self.denoise, Unset):
            if isinstance(self.denoise, int):
                files.append(("denoise", (None, str(self.denoise).encode(), "text/plain")))
            else:
                files.append(("denoise", (None, str(self.denoise).encode(), "text/plain")))

        if not isinstance(self.light, Unset):
            files.append(("light", (None, str(self.light.value).encode(), "text/plain")))

        if not isinstance(self.denoise_photo, Unset):
            files.append(("denoise_photo", (None, str(self.denoise_photo.value).encode(), "text/plain")))

        if not isinstance(self.denoise_sigma, Unset):
            if isinstance(self.denoise_sigma, float):
                files.append(("denoise_sigma", (None, str(self.denoise_sigma).encode(), "text/plain")))
            else:
                files.append(("denoise_sigma", (None, str(self.denoise_sigma).encode(), "text/plain")))

        if not isinstance(self.deblur, Unset):
            files.append(("deblur", (None, str(self.deblur.value).encode(), "text/plain")))

        if not isinstance(self.deblur_model, Unset):
            if isinstance(self.deblur_model, str):
                files.append(("deblur_model", (None, str(self.deblur_model).encode(), "text/plain")))
            else:
                files.append(("deblur_model", (None, str(self.deblur_model).encode(), "text/plain")))

        if not isinstance(self.frames, Unset):
            if isinstance(self.frames, list):
                for frames_type_0_item_element in self.frames:
                    files.append(("frames", (None, str(frames_type_0_item_element).encode(), "text/plain")))
            else:
                files.append(("frames", (None, str(self.frames).encode(), "text/plain")))

        if not isinstance(self.every_n, Unset):
            if isinstance(self.every_n, int):
                files.append(("every_n", (None, str(self.every_n).encode(), "text/plain")))
            else:
                files.append(("every_n", (None, str(self.every_n).encode(), "text/plain")))

        if not isinstance(self.start, Unset):
            if isinstance(self.start, float):
                files.append(("start", (None, str(self.start).encode(), "text/plain")))
            else:
                files.append(("start", (None, str(self.start).encode(), "text/plain")))

        if not isinstance(self.end, Unset):
            if isinstance(self.end, float):
                files.append(("end", (None, str(self.end).encode(), "text/plain")))
            else:
                files.append(("end", (None, str(self.end).encode(), "text/plain")))

        if not isinstance(self.max_frames, Unset):
            if isinstance(self.max_frames, int):
                files.append(("max_frames", (None, str(self.max_frames).encode(), "text/plain")))
            else:
                files.append(("max_frames", (None, str(self.max_frames).encode(), "text/plain")))

        if not isinstance(self.select_best, Unset):
            if isinstance(self.select_best, int):
                files.append(("select_best", (None, str(self.select_best).encode(), "text/plain")))
            else:
                files.append(("select_best", (None, str(self.select_best).encode(), "text/plain")))

        if not isinstance(self.keep, Unset):
            files.append(("keep", (None, str(self.keep.value).encode(), "text/plain")))

        if not isinstance(self.duplicates, Unset):
            files.append(("duplicates", (None, str(self.duplicates.value).encode(), "text/plain")))

        if not isinstance(self.interpolate, Unset):
            if isinstance(self.interpolate, BodyCreateJobInterpolateType0):
                files.append(("interpolate", (None, str(self.interpolate.value).encode(), "text/plain")))
            else:
                files.append(("interpolate", (None, str(self.interpolate).encode(), "text/plain")))

        if not isinstance(self.outputs, Unset):
            for outputs_item_element in self.outputs:
                files.append(("outputs", (None, str(outputs_item_element.value).encode(), "text/plain")))

        if not isinstance(self.gif_layout, Unset):
            files.append(("gif_layout", (None, str(self.gif_layout.value).encode(), "text/plain")))

        if not isinstance(self.gif_fps, Unset):
            files.append(("gif_fps", (None, str(self.gif_fps).encode(), "text/plain")))

        if not isinstance(self.gif_max_width, Unset):
            files.append(("gif_max_width", (None, str(self.gif_max_width).encode(), "text/plain")))

        if not isinstance(self.codec, Unset):
            files.append(("codec", (None, str(self.codec.value).encode(), "text/plain")))

        if not isinstance(self.container, Unset):
            if isinstance(self.container, BodyCreateJobContainerType0):
                files.append(("container", (None, str(self.container.value).encode(), "text/plain")))
            else:
                files.append(("container", (None, str(self.container).encode(), "text/plain")))

        if not isinstance(self.pix_fmt, Unset):
            if isinstance(self.pix_fmt, BodyCreateJobPixFmtType0):
                files.append(("pix_fmt", (None, str(self.pix_fmt.value).encode(), "text/plain")))
            else:
                files.append(("pix_fmt", (None, str(self.pix_fmt).encode(), "text/plain")))

        if not isinstance(self.crf, Unset):
            if isinstance(self.crf, int):
                files.append(("crf", (None, str(self.crf).encode(), "text/plain")))
            else:
                files.append(("crf", (None, str(self.crf).encode(), "text/plain")))

        if not isinstance(self.preset, Unset):
            if isinstance(self.preset, str):
                files.append(("preset", (None, str(self.preset).encode(), "text/plain")))
            else:
                files.append(("preset", (None, str(self.preset).encode(), "text/plain")))

        if not isinstance(self.file, Unset):
            for file_item_element in self.file:
                files.append(("file", file_item_element.to_tuple()))

        if not isinstance(self.url, Unset):
            if isinstance(self.url, str):
                files.append(("url", (None, str(self.url).encode(), "text/plain")))
            else:
                files.append(("url", (None, str(self.url).encode(), "text/plain")))

        if not isinstance(self.callback_url, Unset):
            if isinstance(self.callback_url, str):
                files.append(("callback_url", (None, str(self.callback_url).encode(), "text/plain")))
            else:
                files.append(("callback_url", (None, str(self.callback_url).encode(), "text/plain")))

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        def _parse_scale(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        scale = _parse_scale(d.pop("scale", UNSET))

        def _parse_tile(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        tile = _parse_tile(d.pop("tile", UNSET))

        def _parse_denoise(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        denoise = _parse_denoise(d.pop("denoise", UNSET))

        _light = d.pop("light", UNSET)
        light: LightMode | Unset
        if isinstance(_light, Unset):
            light = UNSET
        else:
            light = LightMode(_light)

        _denoise_photo = d.pop("denoise_photo", UNSET)
        denoise_photo: DenoiseMode | Unset
        if isinstance(_denoise_photo, Unset):
            denoise_photo = UNSET
        else:
            denoise_photo = DenoiseMode(_denoise_photo)

        def _parse_denoise_sigma(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        denoise_sigma = _parse_denoise_sigma(d.pop("denoise_sigma", UNSET))

        _deblur = d.pop("deblur", UNSET)
        deblur: DeblurMode | Unset
        if isinstance(_deblur, Unset):
            deblur = UNSET
        else:
            deblur = DeblurMode(_deblur)

        def _parse_deblur_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        deblur_model = _parse_deblur_model(d.pop("deblur_model", UNSET))

        def _parse_frames(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                frames_type_0 = cast(list[int], data)

                return frames_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        frames = _parse_frames(d.pop("frames", UNSET))

        def _parse_every_n(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        every_n = _parse_every_n(d.pop("every_n", UNSET))

        def _parse_start(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        start = _parse_start(d.pop("start", UNSET))

        def _parse_end(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        end = _parse_end(d.pop("end", UNSET))

        def _parse_max_frames(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_frames = _parse_max_frames(d.pop("max_frames", UNSET))

        def _parse_select_best(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        select_best = _parse_select_best(d.pop("select_best", UNSET))

        _keep = d.pop("keep", UNSET)
        keep: BodyCreateJobKeep | Unset
        if isinstance(_keep, Unset):
            keep = UNSET
        else:
            keep = BodyCreateJobKeep(_keep)

        _duplicates = d.pop("duplicates", UNSET)
        duplicates: BodyCreateJobDuplicates | Unset
        if isinstance(_duplicates, Unset):
            duplicates = UNSET
        else:
            duplicates = BodyCreateJobDuplicates(_duplicates)

        def _parse_interpolate(data: object) -> BodyCreateJobInterpolateType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, int):
                    raise TypeError()
                interpolate_type_0 = BodyCreateJobInterpolateType0(data)

                return interpolate_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BodyCreateJobInterpolateType0 | None | Unset, data)

        interpolate = _parse_interpolate(d.pop("interpolate", UNSET))

        _outputs = d.pop("outputs", UNSET)
        outputs: list[Output] | Unset = UNSET
        if _outputs is not UNSET:
            outputs = []
            for outputs_item_data in _outputs:
                outputs_item = Output(outputs_item_data)

                outputs.append(outputs_item)

        _gif_layout = d.pop("gif_layout", UNSET)
        gif_layout: GifLayout | Unset
        if isinstance(_gif_layout, Unset):
            gif_layout = UNSET
        else:
            gif_layout = GifLayout(_gif_layout)

        gif_fps = d.pop("gif_fps", UNSET)

        gif_max_width = d.pop("gif_max_width", UNSET)

        _codec = d.pop("codec", UNSET)
        codec: BodyCreateJobCodec | Unset
        if isinstance(_codec, Unset):
            codec = UNSET
        else:
            codec = BodyCreateJobCodec(_codec)

        def _parse_container(data: object) -> BodyCreateJobContainerType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                container_type_0 = BodyCreateJobContainerType0(data)

                return container_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BodyCreateJobContainerType0 | None | Unset, data)

        container = _parse_container(d.pop("container", UNSET))

        def _parse_pix_fmt(data: object) -> BodyCreateJobPixFmtType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                pix_fmt_type_0 = BodyCreateJobPixFmtType0(data)

                return pix_fmt_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BodyCreateJobPixFmtType0 | None | Unset, data)

        pix_fmt = _parse_pix_fmt(d.pop("pix_fmt", UNSET))

        def _parse_crf(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        crf = _parse_crf(d.pop("crf", UNSET))

        def _parse_preset(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        preset = _parse_preset(d.pop("preset", UNSET))

        _file = d.pop("file", UNSET)
        file: list[File] | Unset = UNSET
        if _file is not UNSET:
            file = []
            for file_item_data in _file:
                file_item = File(payload=BytesIO(file_item_data))

                file.append(file_item)

        def _parse_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        url = _parse_url(d.pop("url", UNSET))

        def _parse_callback_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        callback_url = _parse_callback_url(d.pop("callback_url", UNSET))

        body_create_job = cls(
            model=model,
            scale=scale,
            tile=tile,
            denoise=denoise,
            light=light,
            denoise_photo=denoise_photo,
            denoise_sigma=denoise_sigma,
            deblur=deblur,
            deblur_model=deblur_model,
            frames=frames,
            every_n=every_n,
            start=start,
            end=end,
            max_frames=max_frames,
            select_best=select_best,
            keep=keep,
            duplicates=duplicates,
            interpolate=interpolate,
            outputs=outputs,
            gif_layout=gif_layout,
            gif_fps=gif_fps,
            gif_max_width=gif_max_width,
            codec=codec,
            container=container,
            pix_fmt=pix_fmt,
            crf=crf,
            preset=preset,
            file=file,
            url=url,
            callback_url=callback_url,
        )

        body_create_job.additional_properties = d
        return body_create_job

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
