"""The 32 iMiGUE classes (index = label) and their train/val clip counts.

Names from MiGA2023_Track1 tools/glove/english_label.txt; counts counted from the public MiGA split lists
(docs/recipes.md). Class 31 is the non-micro-gesture class ("illustrative gestures"), raw label 99.
"""

IMIGUE_CLASSES: tuple[str, ...] = (
    "turtle neck", "deep breath", "touch hat", "touch/scratch head", "touch forehead", "cover face", "rub eyes",
    "touch other facial parts", "touch ears", "bite nails", "touch chin", "touch neck", "play with hair",
    "adjust tie/collar", "touch chest/suprasternal notch", "scratch back", "fold arms", "dust clothes/sleeve",
    "arms behind body", "move torso", "sit straight", "scratch arm", "rub/hold hands", "cross fingers",
    "minaret gesture", "play with objects", "withdraw arms", "head up", "bite/press lips", "arms akimbo",
    "shake shoulders", "illustrative gestures (non-MG)",
)  # fmt: skip
IMIGUE_TRAIN_COUNTS: tuple[int, ...] = (
    10, 393, 38, 199, 80, 23, 57, 824, 80, 3, 284, 137, 97, 41, 26, 24, 304, 82, 1, 887, 157, 360, 656, 690, 11, 280,
    84, 60, 1155, 6, 2079, 3765,
)  # fmt: skip
IMIGUE_VAL_COUNTS: tuple[int, ...] = (
    0, 25, 1, 8, 0, 0, 7, 34, 7, 0, 18, 17, 0, 0, 2, 3, 18, 1, 1, 55, 13, 13, 1, 10, 0, 7, 3, 0, 82, 0, 193, 258,
)  # fmt: skip
NON_MG_CLASS = 31
RAW_NON_MG_LABEL = 99


def imigue_label(raw: int) -> int:
    """Map a raw iMiGUE label (1-31, 99 = non-MG) to microgesture's 0-based index."""
    if raw == RAW_NON_MG_LABEL:
        return NON_MG_CLASS
    if 1 <= raw <= 31:
        return raw - 1
    raise ValueError(f"raw label {raw} is not in 1..31 or 99")
