"""Column names and markers of BORIS's event exports, shared by the reader and the writer."""

FORMAT = "boris"
NO_FOCAL_SUBJECT = "No focal subject"
NA = "NA"
MEDIA_COLUMNS = ("Media file name", "Media file", "Media file path")
UNKNOWN_MEDIA = ("", NA, "Not found")

TABULAR_COLUMNS = [
    "Observation id",
    "Observation date",
    "Description",
    "Observation duration",
    "Observation type",
    "Source",
    "Time offset (s)",
    "Media duration (s)",
    "FPS",
    "Subject",
    "Behavior",
    "Behavioral category",
    "Behavior type",
    "Time",
    "Media file name",
    "Image index",
    "Image file path",
    "Comment",
]
AGGREGATED_COLUMNS = [
    "Observation id",
    "Observation date",
    "Description",
    "Observation type",
    "Source",
    "Time offset (s)",
    "Coding duration",
    "Media duration (s)",
    "FPS (frame/s)",
    "Subject",
    "Observation duration by subject by observation",
    "Behavior",
    "Behavioral category",
    "Behavior type",
    "Start (s)",
    "Stop (s)",
    "Duration (s)",
    "Media file name",
    "Image index start",
    "Image index stop",
    "Image file path start",
    "Image file path stop",
    "Comment start",
    "Comment stop",
]
