"""The shipped Max and Pd patches: well-formed, and wired to every address the OSC adapter sends and hears."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sheetsync_osc.addresses import LISTEN_HOST, LISTEN_PORT, SEND_PORT
from sheetsync_osc.messages import ADDRESSES, CONTROLS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PREFIX = "/sheetsync"
# the inlets and outlets Max gives these objects (from their argument count where it varies)
MAX_OBJECTS = {
    "udpreceive": lambda n: (1, 1), "udpsend": lambda n: (1, 0), "route": lambda n: (2, n + 1),
    "unpack": lambda n: (1, n), "pack": lambda n: (n, 1), "sel": lambda n: (n + 1, n + 1),
    "prepend": lambda n: (1, 1),
}
MAX_UI = {"number": (1, 2), "flonum": (1, 2), "message": (2, 1), "comment": (1, 0), "button": (1, 1),
          "multislider": (1, 2)}


@pytest.fixture(scope="module")
def patcher():
    return json.loads((EXAMPLES / "max" / "sheetsync.maxpat").read_text())["patcher"]


@pytest.fixture(scope="module")
def boxes(patcher):
    return {entry["box"]["id"]: entry["box"] for entry in patcher["boxes"]}


def wires(patcher):
    return [(line["patchline"]["source"], line["patchline"]["destination"]) for line in patcher["lines"]]


def find(boxes, text_start):
    found = [b for b in boxes.values() if b.get("text", "").split(" ")[0] == text_start]
    assert found, f"no [{text_start}] in the patch"
    return found


def test_max_patch_is_valid_max_json(patcher, boxes):
    assert patcher["fileversion"] == 1 and patcher["classnamespace"] == "box"
    assert len(boxes) == len(patcher["boxes"])  # ids are unique
    for box in boxes.values():
        assert re.fullmatch(r"obj-\d+", box["id"])
        assert len(box["patching_rect"]) == 4 and all(isinstance(v, float) for v in box["patching_rect"])
        assert len(box.get("outlettype", [])) == box["numoutlets"]
        if box["maxclass"] == "newobj":
            name, *args = box["text"].split()
            assert (box["numinlets"], box["numoutlets"]) == MAX_OBJECTS[name](len(args)), box["text"]
        else:
            assert (box["numinlets"], box["numoutlets"]) == MAX_UI[box["maxclass"]], box["maxclass"]
    for (source, outlet), (destination, inlet) in wires(patcher):
        assert outlet < boxes[source]["numoutlets"] and inlet < boxes[destination]["numinlets"]


def test_max_patch_routes_every_address_the_plugin_sends(patcher, boxes):
    [receive] = find(boxes, "udpreceive")
    assert receive["text"] == f"udpreceive {SEND_PORT}"
    [route] = find(boxes, "route")
    assert route["text"].split()[1:] == [f"{PREFIX}/{suffix}" for suffix in ADDRESSES]
    assert ([receive["id"], 0], [route["id"], 0]) in wires(patcher)
    used = {outlet for (source, outlet), _ in wires(patcher) if source == route["id"]}
    assert used == set(range(len(ADDRESSES)))  # every address goes somewhere (the last outlet: the rest)


@pytest.mark.parametrize("address", ["position", "page"])
def test_max_unpack_matches_the_argument_types(patcher, boxes, address):
    [route] = find(boxes, "route")
    outlet = list(ADDRESSES).index(address)
    [unpack] = [boxes[d] for (s, o), (d, _) in wires(patcher) if s == route["id"] and o == outlet]
    expected = ["0" if tag == "i" else "0." for tag in ADDRESSES[address][0]]
    assert unpack["text"].split()[1:] == expected


def test_max_patch_sends_every_control_command_to_the_listen_port(patcher, boxes):
    [send] = find(boxes, "udpsend")
    assert send["text"] == f"udpsend {LISTEN_HOST} {LISTEN_PORT}"
    senders = {boxes[s]["text"] for (s, _), (d, _) in wires(patcher) if d == send["id"]}
    assert senders == {f"{PREFIX}/{command}" for command in CONTROLS if command != "page"} | {f"{PREFIX}/page $1"}
    assert any(boxes[s]["maxclass"] == "number" and boxes[d].get("text") == f"{PREFIX}/page $1"
               for (s, _), (d, _) in wires(patcher))


def test_max_patch_shows_page_measure_xy_and_a_slider_view(patcher, boxes):
    [unpack] = [b for b in boxes.values() if b.get("text", "").startswith("unpack 0 0 0.")]
    shown = [{boxes[d]["maxclass"] for (s, o), (d, _) in wires(patcher) if s == unpack["id"] and o == outlet}
             for outlet in range(unpack["numoutlets"])]
    assert "number" in shown[0] and "number" in shown[4]  # page, measure
    assert "flonum" in shown[2] and "flonum" in shown[3]  # x, y
    [pack] = find(boxes, "pack")
    assert any(s == pack["id"] and boxes[d]["maxclass"] == "multislider" for (s, _), (d, _) in wires(patcher))


def pd_patch():
    records = [r.strip() for r in (EXAMPLES / "pd" / "sheetsync.pd").read_text().split(";\n") if r.strip()]
    assert records[0].startswith("#N canvas")
    objects = [r.rstrip(";").split() for r in records[1:] if not r.startswith("#X connect")]
    connects = [tuple(map(int, r.rstrip(";").split()[2:])) for r in records if r.startswith("#X connect")]
    return objects, connects


def test_pd_patch_parses_and_routes_every_address():
    objects, connects = pd_patch()
    for source, outlet, destination, inlet in connects:
        assert source < len(objects) and destination < len(objects)
    texts = [" ".join(o[4:]) for o in objects if o[1] == "obj"]
    assert f"netreceive -u -b {SEND_PORT}" in texts and "oscparse" in texts
    assert f"route {PREFIX.strip('/')}" in texts
    assert f"route {' '.join(ADDRESSES)}" in texts
    for command in CONTROLS:
        assert f"oscformat {PREFIX.strip('/')} {command}" in texts
    messages = [" ".join(o[4:]) for o in objects if o[1] == "msg"]
    assert f"connect {LISTEN_HOST} {LISTEN_PORT}" in messages
