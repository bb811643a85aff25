"""Video frames of the synthetic benchmark, drawn with OpenCV primitives from the clean skeleton geometry.

A :class:`Scene` is one video's set: a cluttered press-conference backdrop with sponsor logos and a table (drawn
before the person), the table front, microphones, a name card and a bottle (drawn over the person), a lighting curve
with camera flashes, and a bank of sensor-noise frames. The person is drawn from :class:`~.body.Body` (clean points,
not the noisy skeleton): subject-specific jacket, shirt, skin, hair and cap; a face whose eyes, brows and mouth follow
the face points; arms, hands, and the object of "play with objects". Coordinates use 4 bits of sub-pixel precision
so that small movements still move pixels at 160x90.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from microgesture.data.synth.body import BRIM, EARS, HAIRLINE, SKULL, Body, Subject, smooth_noise
from microgesture.layouts import FACE0, LHAND0, RHAND0

__all__ = ["Scene", "make_scene", "render"]

_RAMP = np.arange(256, dtype=np.float64).reshape(256, 1, 1)
SHIFT = 4
ONE = 1 << SHIFT
LINE = cv2.LINE_8  # exact integer rasterisation: deterministic and cheap


@dataclass
class Scene:
    """One video's set. ``front`` patches are (y0, x0, rgb patch, mask) pasted over the person."""

    backdrop: np.ndarray
    front_y: int
    front: np.ndarray
    patches: list[tuple[int, int, np.ndarray, np.ndarray]]
    light: np.ndarray  # (T, 3) per-channel gain
    noise_pos: np.ndarray  # (K, H, W, 3) uint8
    noise_neg: np.ndarray
    noise_idx: np.ndarray  # (T,) which noise frame


def _rand_color(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    return tuple(int(x) for x in rng.integers(lo, hi, 3))


def _logo(img: np.ndarray, rng: np.random.Generator, x: int, y: int, w: int, h: int, color, text: str) -> None:
    kind = rng.integers(3)
    if kind == 0:
        cv2.circle(img, (x + h // 2, y + h // 2), max(1, h // 3), color, -1, LINE)
    elif kind == 1:
        cv2.rectangle(img, (x, y + h // 4), (x + h // 2, y + 3 * h // 4), color, -1, LINE)
    else:
        pts = np.array([[x, y + 3 * h // 4], [x + h // 4, y + h // 4], [x + h // 2, y + 3 * h // 4]], np.int32)
        cv2.fillPoly(img, [pts], color, LINE)
    scale = max(0.2, h / 60.0)
    cv2.putText(img, text, (x + h // 2 + 1, y + 3 * h // 4), cv2.FONT_HERSHEY_SIMPLEX, scale, color,
                max(1, h // 25), LINE)  # fmt: skip


def make_scene(rng: np.random.Generator, stage, n_frames: int) -> Scene:
    """Draw one video's set for a recording of ``n_frames`` frames."""
    # long: one scene drawn element by element; each element is a few lines on the same canvas
    w, h = stage.frame_size
    ys = np.linspace(0, 1, h)[:, None, None]
    top, bottom = np.array(_rand_color(rng, 60, 220), float), np.array(_rand_color(rng, 30, 200), float)
    img = np.ascontiguousarray(np.broadcast_to(top * (1 - ys) + bottom * ys, (h, w, 3)).astype(np.uint8))
    # sponsor wall: a grid of 2-3 alternating logos
    sponsors = [("".join(rng.choice(list("ACEGKMOPRSTVXZ"), rng.integers(3, 6))), _rand_color(rng))
                for _ in range(rng.integers(2, 4))]  # fmt: skip
    tw, th = int(w / rng.uniform(4, 7)), int(h / rng.uniform(4, 6))
    k = 0
    for gy in range(-th // 2 * int(rng.integers(2)), h, th):
        for gx in range(-tw // 3 * int(rng.integers(3)), w, tw):
            name, col = sponsors[k % len(sponsors)]
            _logo(img, rng, gx + tw // 10, gy + th // 6, tw, th // 2, col, name)
            k += 1
    for _ in range(rng.integers(2, 6)):  # clutter: screens, banners, plants
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            cv2.rectangle(img, (x0, y0), (x0 + int(rng.integers(w // 20, w // 5)), y0 + int(rng.integers(h // 20,
                          h // 4))), _rand_color(rng), -1, LINE)  # fmt: skip
        else:
            for _ in range(6):
                c = (x0 + int(rng.normal(0, w / 40)), y0 + int(rng.normal(0, h / 30)))
                cv2.circle(img, c, max(1, int(rng.uniform(0.01, 0.04) * w)), (30, int(rng.integers(90, 160)), 40),
                           -1, LINE)  # fmt: skip
    # table: surface (behind the hands), front panel (over the person)
    far = int(stage.to_px(np.array([0.0, stage.table_far]))[1])
    front_y = int(stage.to_px(np.array([0.0, stage.table_front]))[1])
    surface = _rand_color(rng, 120, 250)
    cv2.rectangle(img, (0, far), (w, h), surface, -1, LINE)
    front = img.copy()
    panel = _rand_color(rng, 10, 200)
    cv2.rectangle(front, (0, front_y), (w, h), panel, -1, LINE)
    name, col = sponsors[0]
    _logo(front, rng, int(w * rng.uniform(0.1, 0.6)), front_y + (h - front_y) // 6, w // 3, max(2, (h - front_y) // 2),
          _rand_color(rng), name)  # fmt: skip
    patches = []
    u = stage.upx
    cx = stage.x * w
    for _ in range(rng.integers(1, 3)):  # microphones standing on the table, off the face
        side = rng.choice([-1, 1])
        x = int(cx + side * rng.uniform(0.5, 1.3) * u)
        head = (int(x - side * 0.2 * u), int(stage.to_px(np.array([0.0, rng.uniform(0.9, 1.3)]))[1]))
        patches.append(_patch(front.shape, lambda m, x=x, head=head: (
            cv2.line(m, (x, front_y), head, (40, 40, 40), max(1, int(0.06 * u)), LINE),
            cv2.circle(m, head, max(1, int(0.1 * u)), (25, 25, 25), -1, LINE))))  # fmt: skip
    for _ in range(rng.integers(0, 2)):  # a water bottle on the table
        x = int(cx + rng.choice([-1, 1]) * rng.uniform(1.6, 2.6) * u)
        bw, bh = max(1, int(0.22 * u)), max(2, int(0.75 * u))
        patches.append(_patch(front.shape, lambda m, x=x, bw=bw, bh=bh: cv2.rectangle(
            m, (x, front_y - bh), (x + bw, front_y), (170, 210, 235), -1, LINE)))  # fmt: skip
    # lighting: slow drift, a per-video tint, and camera flashes (press conferences!)
    tint = 1.0 + 0.06 * rng.standard_normal(3)
    gain = rng.uniform(0.85, 1.1) + 0.06 * smooth_noise(rng, n_frames, knot=75.0)
    flashes = rng.random(n_frames) < 0.002
    gain = gain + 0.35 * flashes + 0.15 * np.roll(flashes, 1)
    light = gain[:, None] * tint
    sigma = rng.uniform(2.0, 6.0)
    bank = rng.normal(0.0, sigma, (4, h, w, 3))
    return Scene(
        backdrop=img,
        front_y=front_y,
        front=front,
        patches=patches,
        light=light,
        noise_pos=np.clip(bank, 0, 255).astype(np.uint8),
        noise_neg=np.clip(-bank, 0, 255).astype(np.uint8),
        noise_idx=rng.integers(0, 4, n_frames),
    )


def _patch(shape, draw) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Draw something on a blank mask canvas and keep its bounding box as a (y0, x0, rgb, mask) patch."""
    canvas = np.zeros(shape, np.uint8)
    draw(canvas)  # every colour drawn is non-black, so the non-zero pixels are the patch
    mask = canvas.any(-1)
    if not mask.any():
        return (0, 0, canvas[:0, :0], mask[:0, :0])
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return (int(y0), int(x0), canvas[y0:y1, x0:x1].copy(), mask[y0:y1, x0:x1].copy())


def _pts(p: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(p) * ONE).astype(np.int32)


def _poly(img, p, color) -> None:
    cv2.fillPoly(img, [_pts(p)], color, LINE, SHIFT)


def _line(img, p, q, color, th) -> None:
    cv2.line(img, _pts(p).tolist(), _pts(q).tolist(), color, max(1, int(round(th))), LINE, SHIFT)


def _polyline(img, p, color, th) -> None:
    cv2.polylines(img, [_pts(p)], False, color, max(1, int(round(th))), LINE, SHIFT)


def _disc(img, c, r, color) -> None:
    cv2.circle(img, _pts(c).tolist(), max(1, int(round(r * ONE))), color, -1, LINE, SHIFT)


def _shade(c, f: float) -> tuple[int, int, int]:
    return tuple(int(min(255, max(0, x * f + (f > 1) * 25))) for x in c)


@dataclass(frozen=True)
class _Palette:
    skin: tuple
    hand: tuple
    neck: tuple
    ear: tuple
    sleeve: tuple
    brow: tuple
    lid: tuple
    nose: tuple
    nostril: tuple
    brim: tuple


def _palette(s: Subject) -> _Palette:
    return _Palette(
        skin=s.skin, hand=_shade(s.skin, 0.95), neck=_shade(s.skin, 0.9), ear=_shade(s.skin, 0.92),
        # a shade off the jacket, so that arms stay visible over the torso
        sleeve=_shade(s.jacket, 0.78) if sum(s.jacket) > 120 else _shade(s.jacket, 1.6),
        brow=_shade(s.hair, 0.6), lid=_shade(s.skin, 0.45), nose=_shade(s.skin, 0.7), nostril=_shade(s.skin, 0.6),
        brim=_shade(s.hat_color, 0.75),
    )  # fmt: skip


_FINGERS = [np.array([1, 2, 3, 4])] + [np.array([0, 1 + 4 * f, 2 + 4 * f, 3 + 4 * f, 4 + 4 * f]) for f in (1, 2, 3, 4)]
_PALM = np.array([0, 1, 5, 9, 13, 17])


def _draw_arm(img, p, k: int, pal: _Palette, u: float, hand_ok: bool) -> None:
    s, e, wr = (2, 3, 4) if k == 0 else (5, 6, 7)
    _line(img, p[s], p[e], pal.sleeve, 0.42 * u)
    _line(img, p[e], p[wr], pal.sleeve, 0.36 * u)
    if not hand_ok:
        return
    h0 = RHAND0 if k == 0 else LHAND0
    hand = _pts(p[h0 : h0 + 21])
    cv2.fillPoly(img, [hand[_PALM]], pal.hand, LINE, SHIFT)
    cv2.polylines(img, [hand[f] for f in _FINGERS], False, pal.hand, max(1, int(round(0.09 * u))), LINE, SHIFT)


def _draw_object(img, p, tr, t: int, u: float) -> None:
    kind = int(tr.obj[t])
    h0 = RHAND0 if tr.obj_hand[t] == 0 else LHAND0
    c = 0.5 * (p[h0] + p[h0 + 9])
    a = tr.obj_angle[t]
    d = np.array([np.cos(a), np.sin(a)])
    n = np.array([-d[1], d[0]])
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)], float)
    if kind == 1:  # pen
        _line(img, c - 0.3 * u * d, c + 0.3 * u * d, (20, 40, 160), 0.06 * u)
    elif kind == 2:  # bottle
        _poly(img, c + u * (0.35 * corners[:, :1] * d + 0.12 * corners[:, 1:] * n), (150, 200, 235))
    elif kind == 3:  # bottle cap
        _disc(img, c, 0.11 * u, (220, 30, 30))
    else:  # phone
        _poly(img, c + u * (0.28 * corners[:, :1] * d + 0.15 * corners[:, 1:] * n), (15, 15, 20))


def _draw_person(img: np.ndarray, body: Body, subject: Subject, pal: _Palette, t: int) -> None:
    p, x, vis = body.points[t], body.extra[t], body.vis[t]
    tr, st = body.track, body.stage
    u = st.upx
    far = st.to_px(np.array([0.0, st.table_far]))[1]
    hands_ok = [vis[RHAND0 : RHAND0 + 21].max() > 0.05, vis[LHAND0 : LHAND0 + 21].max() > 0.05]
    for k in (0, 1):
        if body.behind[t, k]:
            _draw_arm(img, p, k, pal, u, False)
    face = p[FACE0 : FACE0 + 70]
    skull = x[SKULL]
    if subject.hair_style == 1:  # long hair falls behind the shoulders
        _poly(img, np.concatenate([skull, [face[16] + (0.12 * u, 0.5 * u), face[0] + (-0.12 * u, 0.5 * u)]]),
              subject.hair)  # fmt: skip
    # torso, shirt opening, neck
    sr, sl, nk = p[2], p[5], p[1]
    torso = np.array([sr + (-0.12 * u, 0.12 * u), sr + (0, -0.1 * u), nk + (0, -0.12 * u), sl + (0, -0.1 * u),
                      sl + (0.12 * u, 0.12 * u), (sl[0] + 0.05 * u, far), (sr[0] - 0.05 * u, far)])  # fmt: skip
    _poly(img, torso, subject.jacket)
    _poly(img, np.array([nk + (-0.25 * u, -0.08 * u), nk + (0.25 * u, -0.08 * u), nk + (0, 0.75 * u)]), subject.shirt)
    _poly(img, np.array([face[5], face[11], nk + (0.2 * u, -0.04 * u), nk + (-0.2 * u, -0.04 * u)]), pal.neck)
    # head
    for e in (0, 1):
        if vis[17 + e] > 0.3:
            _disc(img, x[EARS][e], 0.08 * u, pal.ear)
    _poly(img, np.concatenate([face[0:17], skull]), subject.skin)
    if subject.hair_style != 2 or subject.hat:
        _poly(img, np.concatenate([skull, x[HAIRLINE][::-1]]), subject.hat_color if subject.hat else subject.hair)
    if subject.hat:
        _poly(img, x[BRIM], pal.brim)
    f = _pts(face)
    fu = np.linalg.norm(face[16] - face[0])  # face width in pixels
    thin = max(1, int(round(0.02 * fu)))
    cv2.polylines(img, [f[17:22], f[22:27]], False, pal.brow, max(1, int(round(0.05 * fu))), LINE, SHIFT)
    for e0, pupil, blink in ((36, 68, tr.blink[t, 0]), (42, 69, tr.blink[t, 1])):
        if blink < 0.6:
            cv2.fillPoly(img, [f[e0 : e0 + 6]], (240, 240, 235), LINE, SHIFT)
            cv2.circle(img, f[pupil].tolist(), max(1, int(round(0.035 * fu * ONE))), (30, 25, 20), -1, LINE, SHIFT)
    cv2.polylines(img, [f[36:40], f[42:46]], False, pal.lid, thin, LINE, SHIFT)
    cv2.polylines(img, [f[27:31]], False, pal.nose, thin, LINE, SHIFT)
    cv2.polylines(img, [f[31:36]], False, pal.nostril, thin, LINE, SHIFT)
    cv2.fillPoly(img, [f[48:60]], subject.lips, LINE, SHIFT)
    cv2.fillPoly(img, [f[60:68]], (70, 20, 25), LINE, SHIFT)
    # arms in front, hands, held object
    for k in (0, 1):
        if not body.behind[t, k]:
            _draw_arm(img, p, k, pal, u, hands_ok[k])
    if tr.obj[t]:
        _draw_object(img, p, tr, t, u)


def render(body: Body, subject: Subject, scene: Scene, frames, *, person: bool = True) -> np.ndarray:
    """Render ``frames`` (indices into the recording) as uint8 (n, H, W, 3) RGB.

    ``person=False`` renders the empty set under the same lighting and noise (tests compare the two).
    """
    idx = np.asarray(list(frames), np.int64)
    h, w = scene.backdrop.shape[:2]
    pal = _palette(subject)
    out = np.empty((len(idx), h, w, 3), np.uint8)
    for i, t in enumerate(idx):
        img = scene.backdrop.copy()
        if person:
            _draw_person(img, body, subject, pal, int(t))
        img[scene.front_y :] = scene.front[scene.front_y :]
        for y0, x0, rgb, mask in scene.patches:
            region = img[y0 : y0 + rgb.shape[0], x0 : x0 + rgb.shape[1]]
            np.copyto(region, rgb, where=mask[..., None])
        lut = np.clip(_RAMP * scene.light[t], 0, 255).astype(np.uint8)  # per-channel gain as a lookup table
        img = cv2.LUT(img, lut)
        k = scene.noise_idx[t]
        img = cv2.subtract(cv2.add(img, scene.noise_pos[k]), scene.noise_neg[k])
        out[i] = img
    return out
