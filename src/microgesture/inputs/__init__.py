"""Model input pipelines, one module per input: its config dataclass and its pipeline (clip -> arrays in the data
loader -> model input on the device). :mod:`.skeleton` (joint coordinates), :mod:`.heatmaps` (PoseC3D volumes),
:mod:`.rgb` (RGB and derived videos), :mod:`.rgbpose` (RGB + heatmaps under one draw); :mod:`.geometry` holds the
box, crop and flip shared by the last three (:class:`~microgesture.inputs.geometry.GeometryConfig`)."""
