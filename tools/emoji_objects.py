"""The builtin pack's object list: emoji of real objects, by category (used by the build script).

Picked for distinct colours and silhouettes at 32×32; no faces, people, flags or symbols.
Each entry is ``(snake_case name, codepoint)``; a single codepoint each, so rendering needs no
emoji sequence shaping.
"""

from __future__ import annotations

OBJECTS: dict[str, list[tuple[str, int]]] = {
    "food": [
        ("red_apple", 0x1F34E), ("banana", 0x1F34C), ("grapes", 0x1F347),
        ("watermelon", 0x1F349), ("strawberry", 0x1F353), ("pineapple", 0x1F34D),
        ("carrot", 0x1F955), ("broccoli", 0x1F966), ("pizza", 0x1F355),
        ("hamburger", 0x1F354), ("croissant", 0x1F950), ("eggplant", 0x1F346),
    ],
    "household": [
        ("chair", 0x1FA91), ("couch_and_lamp", 0x1F6CB), ("toilet", 0x1F6BD),
        ("bathtub", 0x1F6C1), ("alarm_clock", 0x23F0), ("teapot", 0x1FAD6),
        ("light_bulb", 0x1F4A1), ("candle", 0x1F56F), ("broom", 0x1F9F9),
        ("television", 0x1F4FA), ("teddy_bear", 0x1F9F8), ("guitar", 0x1F3B8),
    ],
    "vehicle": [
        ("automobile", 0x1F697), ("bus", 0x1F68C), ("bicycle", 0x1F6B2),
        ("airplane", 0x2708), ("helicopter", 0x1F681), ("rocket", 0x1F680),
        ("sailboat", 0x26F5), ("ship", 0x1F6A2), ("locomotive", 0x1F682),
        ("tractor", 0x1F69C), ("fire_engine", 0x1F692), ("motor_scooter", 0x1F6F5),
    ],
    "animal": [
        ("dog", 0x1F415), ("elephant", 0x1F418), ("giraffe", 0x1F992),
        ("turtle", 0x1F422), ("snail", 0x1F40C), ("butterfly", 0x1F98B),
        ("lady_beetle", 0x1F41E), ("tropical_fish", 0x1F420), ("octopus", 0x1F419),
        ("penguin", 0x1F427), ("flamingo", 0x1F9A9), ("crab", 0x1F980),
    ],
    "plant": [
        ("four_leaf_clover", 0x1F340), ("sunflower", 0x1F33B), ("rose", 0x1F339),
        ("tulip", 0x1F337), ("cactus", 0x1F335), ("palm_tree", 0x1F334),
        ("evergreen_tree", 0x1F332), ("deciduous_tree", 0x1F333), ("mushroom", 0x1F344),
        ("maple_leaf", 0x1F341), ("hibiscus", 0x1F33A), ("potted_plant", 0x1FAB4),
    ],
    "tool": [
        ("hammer", 0x1F528), ("wrench", 0x1F527), ("screwdriver", 0x1FA9B),
        ("carpentry_saw", 0x1FA9A), ("axe", 0x1FA93), ("pick", 0x26CF),
        ("nut_and_bolt", 0x1F529), ("magnet", 0x1F9F2), ("toolbox", 0x1F9F0),
        ("ladder", 0x1FA9C), ("paintbrush", 0x1F58C), ("magnifying_glass", 0x1F50D),
    ],
}


def interleaved() -> list[tuple[str, str, int]]:
    """``(name, category, codepoint)`` in pack order: categories round-robin, so any prefix of
    the pack is a varied set."""
    cats = list(OBJECTS)
    longest = max(len(v) for v in OBJECTS.values())
    return [(OBJECTS[c][i][0], c, OBJECTS[c][i][1])
            for i in range(longest) for c in cats if i < len(OBJECTS[c])]
