"""Faces: image loading, MediaPipe detection, template alignment."""

from mint_tui.faces.align import align_face, similarity_transform
from mint_tui.faces.detect import DETECTOR_MODELS, Detection, FaceDetector
from mint_tui.faces.extract import Face, extract_faces, to_tensor_batch
from mint_tui.faces.prepare import CropCache, ImagePreparer, PreparedImage, PrepareSettings, prepare_images
from mint_tui.faces.image import ImageError, decode_image, load_image, read_image_bytes

__all__ = [
    "DETECTOR_MODELS", "Detection", "Face", "FaceDetector", "ImageError", "CropCache", "ImagePreparer",
    "PreparedImage", "PrepareSettings", "prepare_images",
    "align_face", "decode_image", "extract_faces", "load_image", "read_image_bytes", "similarity_transform",
    "to_tensor_batch",
]
