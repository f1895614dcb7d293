"""Contains all the data models used in inputs/outputs"""

from .artifact_public import ArtifactPublic
from .body_create_job import BodyCreateJob
from .body_create_job_codec import BodyCreateJobCodec
from .body_create_job_container_type_0 import BodyCreateJobContainerType0
from .body_create_job_duplicates import BodyCreateJobDuplicates
from .body_create_job_interpolate_type_0 import BodyCreateJobInterpolateType0
from .body_create_job_keep import BodyCreateJobKeep
from .body_create_job_pix_fmt_type_0 import BodyCreateJobPixFmtType0
from .body_enhance_image import BodyEnhanceImage
from .body_score_images import BodyScoreImages
from .deblur_mode import DeblurMode
from .denoise_mode import DenoiseMode
from .estimate_public import EstimatePublic
from .estimate_public_counted_item import EstimatePublicCountedItem
from .estimate_public_source import EstimatePublicSource
from .frame_public import FramePublic
from .get_frame_thumbnail_which import GetFrameThumbnailWhich
from .get_frame_which import GetFrameWhich
from .gif_layout import GifLayout
from .health_public import HealthPublic
from .health_public_detail import HealthPublicDetail
from .image_format import ImageFormat
from .job_kind import JobKind
from .job_options import JobOptions
from .job_options_codec import JobOptionsCodec
from .job_options_container_type_0 import JobOptionsContainerType0
from .job_options_duplicates import JobOptionsDuplicates
from .job_options_interpolate_type_0 import JobOptionsInterpolateType0
from .job_options_keep import JobOptionsKeep
from .job_options_pix_fmt_type_0 import JobOptionsPixFmtType0
from .job_public import JobPublic
from .job_public_files import JobPublicFiles
from .job_public_links import JobPublicLinks
from .job_status import JobStatus
from .jobs_public import JobsPublic
from .light_mode import LightMode
from .model_public import ModelPublic
from .model_public_denoise_levels import ModelPublicDenoiseLevels
from .models_public import ModelsPublic
from .output import Output
from .problem import Problem
from .progress_public import ProgressPublic
from .score_public import ScorePublic
from .score_public_scores import ScorePublicScores
from .scores_public import ScoresPublic
from .scores_public_thresholds import ScoresPublicThresholds
from .verdict import Verdict
from .webhook_public import WebhookPublic
from .webhook_public_status_type_0 import WebhookPublicStatusType0
from .weight_state import WeightState

__all__ = (
    "ArtifactPublic",
    "BodyCreateJob",
    "BodyCreateJobCodec",
    "BodyCreateJobContainerType0",
    "BodyCreateJobDuplicates",
    "BodyCreateJobInterpolateType0",
    "BodyCreateJobKeep",
    "BodyCreateJobPixFmtType0",
    "BodyEnhanceImage",
    "BodyScoreImages",
    "DeblurMode",
    "DenoiseMode",
    "EstimatePublic",
    "EstimatePublicCountedItem",
    "EstimatePublicSource",
    "FramePublic",
    "GetFrameThumbnailWhich",
    "GetFrameWhich",
    "GifLayout",
    "HealthPublic",
    "HealthPublicDetail",
    "ImageFormat",
    "JobKind",
    "JobOptions",
    "JobOptionsCodec",
    "JobOptionsContainerType0",
    "JobOptionsDuplicates",
    "JobOptionsInterpolateType0",
    "JobOptionsKeep",
    "JobOptionsPixFmtType0",
    "JobPublic",
    "JobPublicFiles",
    "JobPublicLinks",
    "JobsPublic",
    "JobStatus",
    "LightMode",
    "ModelPublic",
    "ModelPublicDenoiseLevels",
    "ModelsPublic",
    "Output",
    "Problem",
    "ProgressPublic",
    "ScorePublic",
    "ScorePublicScores",
    "ScoresPublic",
    "ScoresPublicThresholds",
    "Verdict",
    "WebhookPublic",
    "WebhookPublicStatusType0",
    "WeightState",
)
