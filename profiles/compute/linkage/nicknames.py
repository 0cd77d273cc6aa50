"""Compute layer: the nickname table (formal names and their short forms) for name comparison."""

from __future__ import annotations

import numpy as np

from .arrays import NULL_CODE

# Each group lists names one person may go by. A name in two groups joins them.
NICKNAME_GROUPS: tuple[tuple[str, ...], ...] = (
    ("robert", "bob", "bobby", "rob", "robbie", "bert"),
    ("william", "bill", "billy", "will", "willy", "liam"),
    ("katherine", "catherine", "kathryn", "kate", "katie", "kathy", "cathy", "kat", "käthe"),
    ("elizabeth", "liz", "lizzie", "beth", "betty", "eliza", "elisabeth", "lisa", "elsa", "ilse"),
    ("margaret", "peggy", "maggie", "meg", "marge", "greta", "margarete", "gretchen"),
    ("johannes", "hans", "johann", "jo"),
    ("john", "johnny", "jack", "jon"),
    ("james", "jim", "jimmy", "jamie"),
    ("richard", "dick", "rick", "ricky", "rich", "richie"),
    ("michael", "mike", "mikey", "mick", "micha"),
    ("alexander", "alex", "sascha", "sasha", "xander", "alexandra", "sandra", "alexa"),
    ("thomas", "tom", "tommy"),
    ("joseph", "joe", "joey", "sepp", "josef"),
    ("charles", "charlie", "chuck", "chas"),
    ("christopher", "chris", "kit", "christoph"),
    ("daniel", "dan", "danny"),
    ("matthew", "matt", "matthias", "mathias"),
    ("anthony", "tony", "anton"),
    ("edward", "ed", "eddie", "ted", "ned"),
    ("benjamin", "ben", "benny"),
    ("nicholas", "nick", "nicky", "nikolaus", "klaus", "niklas"),
    ("steven", "stephen", "steve", "stefan"),
    ("andrew", "andy", "drew", "andreas", "andi"),
    ("jennifer", "jenny", "jen"),
    ("patricia", "pat", "patty", "trish"),
    ("susan", "sue", "susie", "susanne", "susanna", "susi"),
    ("deborah", "debbie", "deb"),
    ("rebecca", "becky", "becca"),
    ("victoria", "vicky", "tori"),
    ("samantha", "sam", "sammy"),
    ("jessica", "jess", "jessie"),
    ("christina", "christine", "tina", "chrissy", "kristina"),
    ("barbara", "barb", "babs"),
    ("dorothy", "dot", "dottie", "dorothea", "thea"),
    ("frederick", "fred", "freddy", "friedrich", "fritz"),
    ("wolfgang", "wolf"),
    ("franziska", "franzi", "fanny"),
    ("theodore", "theo", "teddy"),
    ("gregory", "greg"),
    ("jacob", "jake", "jakob"),
    ("leonard", "leo", "len", "lenny"),
    ("ronald", "ron", "ronnie"),
    ("donald", "don", "donnie"),
    ("kenneth", "ken", "kenny"),
    ("timothy", "tim", "timmy"),
    ("gerald", "gerry", "jerry", "gerhard"),
    ("juliane", "julia", "jule", "julie"),
    ("wilhelm", "willi"),
    ("heinrich", "heinz", "henry", "hank", "harry", "hal"),
    ("maximilian", "max", "maxi"),
)


def nickname_groups(names: np.ndarray) -> np.ndarray:
    """A group id per name in `names` (NULL_CODE when the name has no known nickname)."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    for group in NICKNAME_GROUPS:
        for name in group:
            parent.setdefault(name, name)
        for name in group[1:]:
            parent[root(name)] = root(group[0])
    roots = sorted({root(name) for name in parent})
    group_id = {name: roots.index(root(name)) for name in parent}
    return np.array([group_id.get(name, NULL_CODE) for name in names], dtype=np.int32)
