"""The weighted French lexicon of the triage: cues per category and per urgency.

Every pattern is a regular expression over *normalised* text (see
:func:`connectors.ai_triage.normalize.normalize`: lowercase ASCII, elisions split, SMS
expanded). A cue adds weight to categories and may set an urgency floor. Cues describing a
*problem* (``fuite``, ``odeur de gaz``) are cancelled by a negation just before them
(``pas de fuite``, ``aucune odeur de gaz``); cues describing a *lost service* (``pas d'eau
chaude``) carry their negation inside the pattern and are not negatable.

Urgency follows the landlord's rules: ``urgent`` is a danger to people or the building (act
within 24 h), ``high`` an essential service lost without danger. The lexicon is deliberately
generous on urgent cues: a missed urgent request is the worst error of the triage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

URGENT = "urgent"
HIGH = "high"
NORMAL = "normal"

#: Words that cancel a problem cue when they appear in the three words before it.
NEGATORS = frozenset({"pas", "aucun", "aucune", "sans", "jamais", "ni", "rien", "non", "nul", "nulle"})
#: ``sans arret`` (non-stop) and friends are not negations.
_NOT_NEGATING_AFTER_SANS = frozenset({"arret", "cesse", "interruption", "fin", "doute", "arreter"})


@dataclass(frozen=True)
class Cue:
    """One lexicon entry.

    Attributes:
        name: Short English label used in ``reasons`` (e.g. ``gas smell``).
        pattern: Compiled regular expression over normalised text.
        categories: Weight added to each category when the cue matches.
        urgency: Urgency floor set by the cue (``urgent``, ``high``) or ``None``.
        negatable: Whether a negation just before the match cancels the cue.
        unless: When this pattern matches anywhere in the text, the cue does not apply.

    """

    name: str
    pattern: re.Pattern[str]
    categories: dict[str, float] = field(default_factory=dict)
    urgency: str | None = None
    negatable: bool = True
    unless: re.Pattern[str] | None = None


def _rx(*alternatives: str) -> str:
    return r"\b(?:" + "|".join(alternatives) + r")\b"


def _cue(
    name: str,
    pattern: str,
    categories: dict[str, float] | None = None,
    urgency: str | None = None,
    *,
    negatable: bool = True,
    unless: str | None = None,
) -> Cue:
    return Cue(
        name=name,
        pattern=re.compile(pattern),
        categories=categories or {},
        urgency=urgency,
        negatable=negatable,
        unless=re.compile(unless) if unless else None,
    )


# --- shared vocabulary ------------------------------------------------------------------------

_GAP = r"(?: \w+){0,%d}"  # up to n intervening words


def _gap(n: int) -> str:
    return _GAP % n


_BROKEN = (
    r"(?:en panne|panne|hors service|marche (?:pas|plus)|marchent (?:pas|plus)|fonctionne (?:pas|plus)"
    r"|fonctionnent (?:pas|plus)|ne fonctionne|ne marche|a l arret|arrete|arretee|coupe|coupee|ne repond"
    r"|mort|morte|lache|en rade|ne demarre|ne redemarre|ne se rallume|ne s allume|ne se remet|ne se relance"
    r"|s est arrete|s arrete|en securite|en defaut|code (?:erreur|defaut)|ne chauffe (?:plus|pas)|hs"
    r"|chauffe (?:plus|pas)|ne part plus)"
)
_FORCED = r"fracturee?s?|forcee?s?|enfoncee?s?|defoncee?s?|arrachee?s?"
_LIFT_BROKEN = (
    r"(?:en panne|panne|hors service|marche (?:pas|plus)|fonctionne (?:pas|plus)|ne fonctionne|ne marche"
    r"|a l arret|arrete depuis|est arrete|bloque\w*|en rade|ne demarre|ne bouge plus|mort|hs|condamne)"
)
_NO = r"(?:plus|pas|sans|aucun|aucune|ni|manque|privee? de|prives de)"
VULNERABLE = _rx(
    r"bebes?",
    r"nourrissons?",
    r"nouveau nes?",
    r"nouveaux nes",
    r"enceinte",
    r"jumeaux",
    r"jumelles",
    r"personnes? agees?",
    r"agee?s? de \d+",
    r"(?:[7-9]\d|1\d\d) ans",
    r"handicape?e?s?",
    r"handicap",
    r"malades?",
    r"asthmatiques?",
    r"asthme",
    r"oxygene",
    r"dialyse",
    r"fauteuil roulant",
    r"invalides?",
    r"grand mere",
    r"grand pere",
    r"grands parents",
    r"fragiles?",
    r"cancer",
    r"chimio\w*",
    r"fievre",
    r"enfants? en bas age",
    r"petits? enfants?",
    r"(?<!depuis )(?:de|d) \d+ (?:mois|semaines|jours)",
    r"ma mere de",
    r"mon pere de",
    r"vieille dame",
    r"vieux monsieur",
    r"personne vulnerable",
    r"vulnerables?",
    r"convalescen\w*",
    r"opere\w*",
    r"hospitalis\w*",
    r"greffe\w*",
    r"insuffisan\w*",
)
#: Compiled: an occupant for whom losing heating is a danger (baby, elderly, ill, pregnant...).
VULNERABLE_RE = re.compile(VULNERABLE)
#: Compiled: the cold itself is extreme (indoor temperature quoted at 15 °C or less, "on gèle").
EXTREME_COLD_RE = re.compile(
    _rx(
        r"(?:[0-9]|1[0-5]) degres",
        r"on gele",
        r"(?:moins|-) ?\d+ degres",
        r"glacial\w*",
        r"il gele",
        r"en plein hiver",
        r"hiver",
        r"neige\w*",
    )
)

_COMMON_DOOR = _rx(
    r"hall",
    r"immeuble",
    r"local",
    r"cave",
    r"caves",
    r"parking",
    r"garage",
    r"boites? aux lettres",
    r"portail",
    r"batiment",
    r"velos?",
    r"poubelles?",
    r"residence",
    r"cour",
    r"porte du bas",
    r"parties communes",
    r"ascenseur",
    r"placard",
    r"porte de service",
    r"sous sol",
    r"grenier",
)
_COMMON_PLACE = _rx(
    r"escaliers?",
    r"cage",
    r"couloirs?",
    r"hall",
    r"palier",
    r"parking",
    r"caves?",
    r"parties communes",
    r"entree de l immeuble",
    r"entree du batiment",
    r"local",
    r"coursives?",
    r"sous sol",
    r"residence",
    r"parkings?",
    r"garages?",
    r"exterieur",
    r"facade",
    r"porche",
    r"etages?",
)

# --- urgency: danger (urgent) -----------------------------------------------------------------

URGENT_CUES: list[Cue] = [
    _cue(
        "gas smell",
        _rx(
            r"odeurs? (?:forte )?(?:de |du |d )?gaz",
            r"sent\w* (?:fort |tres fort |encore )?(?:le |du )?gaz",
            r"fuite (?:de |du )?gaz",
            r"gaz (?:qui )?fui\w*",
            r"gaz qui s echappe",
            r"pue le gaz",
            r"senteur de gaz",
            r"odeur gaz",
            r"odeur" + _gap(6) + r" gaz",
            r"explosion",
        ),
        {"heating_hot_water": 2.5},
        URGENT,
    ),
    _cue(
        "carbon monoxide",
        _rx(
            r"monoxyde",
            r"detecteur (?:de )?co",
            r"detecteur de monoxyde",
            r"intoxication",
            r"intoxique\w*",
            r"co (?:qui )?(?:sonne|bip\w*)",
            r"(?:le |du )?co du detecteur",
            r"\d+ ppm",
            r"ppm",
        ),
        {"heating_hot_water": 2.0},
        URGENT,
    ),
    _cue(
        "poisoning symptoms near a combustion appliance",
        r"(?=.*"
        + _rx(r"chaudiere", r"chauffe eau", r"chauffe bain", r"gaz", r"poele", r"co", r"detecteur")
        + r").*"
        + _rx(
            r"vertiges?",
            r"migraines?",
            r"maux de tete",
            r"mal a la tete",
            r"nausees?",
            r"vomi\w*",
            r"evanoui\w*",
            r"somnolen\w*",
        ),
        {"heating_hot_water": 1.5},
        URGENT,
    ),
    _cue(
        "smoke or fire",
        _rx(
            r"(?<!detecteur de )(?<!detecteurs de )fumees?",
            r"fume(?:nt)? (?:beaucoup|noire|blanche)",
            r"(?:prise|tableau|compteur|interrupteur|chaudiere|four|cable|fil|boitier|lampe|appareil)"
            + _gap(4)
            + r" fum(?:e|ent)\b(?! (?:des|du|de la|pas|plus|la|le|une?|ses))",
            r"pris feu",
            r"prend feu",
            r"prendre feu",
            r"prenne feu",
            r"en feu",
            r"le feu",
            r"au feu",
            r"un feu",
            r"feu de",
            r"(?<!assurance )incendies?",
            r"flammes?(?! pilote)",
            r"odeur de brule",
            r"sent\w* le brule",
            r"ca brule",
            r"odeur de plastique (?:brule|fondu)",
            r"odeur de cramee?",
            r"crame",
            r"alarme incendie",
        ),
        {},
        URGENT,
        unless=_rx(
            r"attestation",
            r"assurance",
            r"assureur",
            r"contrat",
            r"detecteur de fumee"
            r" (?:bip\w*|pile\w*)",
        ),
    ),
    _cue(
        "flooding",
        _rx(
            r"inond\w*",
            r"sous l eau",
            r"(?:de l )?eau partout",
            r"partout de l eau",
            r"l eau (?:se )?repand",
            r"degats? des eaux (?:en cours|important\w*|enorme|grave)",
            r"degats? des eaux en cours",
            r"(?:eau|ca|il) (?:qui )?(?:coule|tombe|ruisselle|goutte|degouline|passe)\w* "
            r"(?:\w+ ){0,3}(?:du|par le|a travers le|dans le|au|le long du|sur le) plafond",
            r"plafond" + _gap(4) + r" (?:coule|gorge d eau|ruisselle|degouline|s affaisse|gonfle|goutte)",
            r"(?:coule|coulent|descend|fuit|passe|arrive|goutte|gouttent|tombe|infiltre) chez (?:le "
            r"|la |les |mon |ma |mes )?"
            r"(?:voisins?|voisine|dame|monsieur|eux|lui|elle|dessous|personnes? du dessous)",
            r"eau jusqu (?:a|au|aux|dans)",
            r"(?:eau|ca) (?:qui )?(?:sort|sortent|jaillit|gicle) (?:du|des|par le|par les) murs?",
            r"(?:tuyau|tuyaux|canalisation|canalisations|conduite|colonne|flexible|ballon|chauffe eau|cumulus"
            r"|raccord|compteur d eau)"
            + _gap(5)
            + r" (?:eclate|explose|pete|rompu|cede|perce|crev\w*|eclatee|explosee|petee|rompue|cedee|percee)",
            r"(?:eclate|explose|pete|rompu|cede|perce|crev\w*)"
            + _gap(2)
            + r" (?:tuyau|canalisation|conduite)",
            r"jaillit",
            r"gicle\w*",
            r"a flots?",
            r"a gros bouillons",
            r"a grosses gouttes",
            r"(?:fuite|fuites) (?:tres |vraiment )?(?:enorme|importante|massive|grave|considerable)s?",
            r"(?:grosse|grosses|enorme|enormes|grande|importante) fuites?",
            r"(?:arrive|arrivons|arrivent|parvient|reussi\w*) pas a (?:couper|fermer|arreter)"
            r"(?: \w+){0,4}(?: eau| robinet| fuite)?",
            r"impossible (?:d arreter|de couper|de fermer|de stopper) (?:l eau|la fuite|le robinet)",
            r"cm d eau",
            r"centimetres d eau",
            r"explosion",
            r"l eau ruisselle",
            r"(?:fuite|fuit|fuient|coule) (?:\w+ ){0,2}(?:abondamment|enormement|a flots?|a torrent"
            r"|sans arret)",
            r"(?:ca|l eau) coule (?:de partout|partout|dans tout)",
            r"l eau (?:monte|arrive) (?:dans|sous) (?:l|la|le|les)"
            r" (?:appartement|logement|couloir|pieces?|chambres?|porte)",
            r"flaque\w* enorme",
            r"eau (?:coule|sort) a flot",
            r"eau (?:qui )?(?:sort|jaillit|coule) (?:\w+ ){0,2}(?:du sol|du mur|des murs|sous la porte)",
        ),
        {"plumbing": 2.0},
        URGENT,
    ),
    _cue(
        "water damage",
        _rx(r"degats? des eaux", r"degats? d eau", r"infiltrations? d eau (?:importante|massive)\w*"),
        {"plumbing": 2.0},
        URGENT,
        unless=_rx(
            r"constat",
            r"declaration",
            r"declarer",
            r"assurance",
            r"assureur",
            r"expert\w*",
            r"indemni\w*",
            r"attestation",
            r"ancien",
            r"dernier",
            r"derniere",
            r"l an dernier",
            r"il y a \w+ (?:mois|ans)",
            r"suite (?:au|a un|a mon)",
            r"apres le",
            r"depuis le",
        ),
    ),
    _cue(
        "sewage overflow",
        _rx(
            r"eaux (?:usees|noires|sales|d egouts?)",
            r"egouts? (?:qui )?(?:remont|refoul|debord)\w*",
            r"refoul\w*",
            r"remontees? d (?:egouts?|eaux)",
            r"excrements",
            r"matieres (?:fecales)?",
            r"(?:wc|toilettes|cuvette)" + _gap(3) + r" debord\w*",
            r"debord\w*" + _gap(2) + r" (?:wc|toilettes)",
            r"caca",
            r"eau sale" + _gap(3) + r" (?:remonte|sort|deborde|arrive)",
        ),
        {"plumbing": 2.5},
        URGENT,
    ),
    _cue(
        "electrical hazard",
        _rx(
            r"etincelles?",
            r"court circuits?",
            r"arcs? electriques?",
            r"electrocut\w*",
            r"electrise\w*",
            r"(?:pris|prend|recu|reçu|prendre) (?:une |un )?(?:decharge|chataigne|coup de jus)",
            r"(?:fils?|cables?)" + _gap(3) + r" (?:denude\w*|a nu|arrache\w*|pendent|pend)",
            r"(?:fils?|cables?) (?:electriques? )?(?:a nu|denude\w*)",
            r"prises?" + _gap(3) + r" (?:fondu\w*|brule\w*|brulante\w*|fume|crepit\w*|chauffe\w*|chaude\w*)",
            r"(?:tableau|compteur|disjoncteur|interrupteur)"
            + _gap(4)
            + r" (?:chauffe\w*(?! (?:legerement|un peu|un petit peu|a peine))|brule\w*|brulant\w*|fume"
                r"|crepit\w*"
            r"|gresill\w*|fondu)",
            r"eau"
            + _gap(6)
            + r" (?:prises? electriques?|tableau electrique|compteur electrique|dans les prises)",
            r"(?:prises?|tableau electrique) " + _gap(3) + r"(?:mouille\w*|sous l eau|inonde\w*)",
        ),
        {"electricity": 3.0},
        URGENT,
    ),
    _cue(
        "person stuck in the lift",
        _rx(
            r"(?:coince|coincee|coinces|coincees|enferme|enfermee|enfermes|enfermees|pris au piege"
            r"|prisonniers?"
            r"|bloque|bloquee|bloques|bloquees|reste bloque\w*) (?:\w+ ){0,3}dans (?:l |la "
            r"|le )?(?:ascenseur|cabine)",
            r"(?:ascenseur|cabine)" + _gap(8) + r" (?:avec|et) (?:\w+ ){0,4}(?:dedans|a l interieur)",
            r"(?:quelqu un|une personne|des personnes|des gens|gens|des enfants|un enfant|ma mere"
            r"|mon pere|ma fille"
            r"|mon fils|une dame|un monsieur|ma voisine|mon voisin|un voisin|une voisine|personnes agees)"
            r" (?:\w+ ){0,3}(?:coince\w*|bloque\w*|enferme\w*) (?:\w+ ){0,3}(?:ascenseur|cabine)",
            r"(?:ascenseur|cabine)"
            + _gap(6)
            + r" (?:quelqu un|des gens|des personnes|une personne|des enfants)"
            r" (?:\w+ ){0,2}(?:coince\w*|bloque\w*|enferme\w*|dedans|a l interieur)",
            r"entre (?:deux|2) etages",
            r"ascenseur" + _gap(8) + r" (?:malaise|panique|blesse\w*|chute\w*)",
            r"ascenseur (?:a |est )?(?:chute|tombe)(?! en panne)(?! souvent)(?! regulierement)",
        ),
        {"lift": 3.0},
        URGENT,
    ),
    _cue(
        "dwelling cannot be locked",
        _rx(
            r"(?:impossible de|peux (?:pas|plus)|peut (?:pas|plus)|pouvons (?:pas|plus)|arrive (?:pas|plus) a"
            r"|ne (?:se )?(?:ferme|verrouille)\w* (?:plus|pas)|ferme plus|ferme pas|verrouille plus"
            r"|verrouille pas)"
            r"(?: \w+){0,4} (?:a cle|a clef|verrouill\w*|fermer (?:la |ma |mon |le |l )?(?:porte"
            r"|logement|appartement))",
            r"(?:porte|serrure|cylindre|verrou)"
            + _gap(6)
            + r" (?:ne (?:se )?ferme plus|ferme plus|ne ferme pas|ne se verrouille|ne verrouille"
            r"|reste ouverte|restee ouverte|bloquee ouverte|bloque ouvert|ne tient plus)",
            r"(?:logement|appartement|porte) (?:\w+ ){0,2}(?:reste|restera|est reste|est restee|reste grand)"
            r" ouverte?",
            r"laisser (?:le logement|l appartement|la porte|mon logement) ouverte?",
            r"(?:porte|serrure|cylindre|verrou)"
            + _gap(6)
            + r" (?:"
            + _FORCED
            + r"|detruite?s?|casse\w* par)",
            r"(?:" + _FORCED + r") (?:\w+ ){0,2}(?:la |ma |notre )?(?:porte|serrure|cylindre)",
            r"serrure (?:de (?:ma|la) porte )?(?:est )?(?:cassee|bloquee|hs|morte|hors service|arrachee)",
            r"cambriol\w*",
            r"effraction",
            r"intrusion",
            r"tentative de vol",
        ),
        {"access_security": 3.0},
        URGENT,
        unless=_COMMON_DOOR,
    ),
    _cue(
        "structural danger",
        _rx(
            r"effondr\w*",
            r"ecroul\w*",
            r"s affaiss\w*",
            r"menace de (?:tomber|s ecrouler|ceder)",
            r"risque de chute",
            r"failli tomber",
            r"(?:morceaux?|blocs?|pierres?|plaques?|bouts?|debris|branches?|arbres?|tuiles?)"
            + _gap(4)
            + r" (?:tomb\w*|chut\w*|se detach\w*)",
            r"(?:garde corps|rambarde|balustrade)"
            + _gap(5)
            + r" (?:descell\w*|arrache\w*|ne tient|cede\w*|bouge\w*|casse\w*)",
            r"fissures? (?:\w+ ){0,3}craqu\w*",
            r"tombe\w* sur (?:le trottoir|les passants|la voiture|les voitures)",
        ),
        {"other": 1.5},
        URGENT,
    ),
    _cue(
        "danger to people",
        _rx(
            r"danger\w*",
            r"blesse\w*",
            r"blessure\w*",
            r"malaise",
            r"pompiers",
            r"samu",
            r"au secours",
            r"a l aide",
            r"urgence vitale",
            r"mise? en danger",
            r"risque (?:pour|d incendie|d electrocution)",
        ),
        {},
        URGENT,
    ),
]

# --- urgency: essential service lost (high) ---------------------------------------------------

HIGH_CUES: list[Cue] = [
    _cue(
        "no heating",
        _rx(
            _NO + r" (?:de |d )?(?:chauffage|radiateurs?)",
            r"chauffage" + _gap(5) + " " + _BROKEN,
            r"chaudiere" + _gap(5) + " " + _BROKEN,
            r"(?:radiateurs|tous les radiateurs|aucun radiateur|les radiateurs)"
            + _gap(4)
            + r" (?:froids?|glaces?|gele\w*|ne chauffent|chauffent (?:plus|pas)|eteints?|"
            + _BROKEN
            + ")",
            r"aucun radiateur ne chauffe",
            r"(?:logement|appartement) (?:est )?glacial",
        ),
        {"heating_hot_water": 3.5},
        HIGH,
        negatable=False,
    ),
    _cue(
        "no hot water",
        _rx(
            _NO + r" (?:d |de l )?eau chaude",
            r"eau chaude" + _gap(3) + " " + _BROKEN,
            r"(?:ballon|cumulus|chauffe eau|chauffe bain|chauffe eaux)" + _gap(5) + " " + _BROKEN,
            r"(?:que|seulement|uniquement) (?:de l )?eau froide",
            r"a l eau froide",
        ),
        {"heating_hot_water": 3.5},
        HIGH,
        negatable=False,
    ),
    _cue(
        "lift out of service",
        _rx(
            r"ascenseurs?" + _gap(6) + " " + _LIFT_BROKEN,
            r"(?:panne|hors service|arret)" + _gap(3) + r" (?:de l |des |d )?ascenseurs?",
        ),
        {"lift": 3.0},
        HIGH,
        negatable=False,
        unless=_rx(r"souvent", r"regulierement", r"fois par", r"tout le temps", r"trop de pannes"),
    ),
    _cue(
        "toilet blocked",
        _rx(
            r"(?:wc|toilettes|cuvette|cabinets)"
            + _gap(4)
            + r" (?:bouche\w*|obstrue\w*|engorge\w*|ne s evacue\w*|n evacue\w*|ne descend\w*"
                r"|inutilisable\w*)",
            r"(?:bouche\w*|obstrue\w*) (?:\w+ ){0,2}(?:wc|toilettes)",
        ),
        {"plumbing": 2.5},
        HIGH,
        negatable=False,
    ),
    _cue(
        "no water",
        _rx(
            _NO + r" (?:une goutte |une seule goutte )?(?:d )?eau(?! chaude)(?! froide)(?! qui)",
            r"plus une goutte",
            r"coupure d eau",
            r"eau (?:est |a ete )?coupee",
            r"robinets? (?:\w+ ){0,2}(?:ne donnent? rien|a sec)",
        ),
        {"plumbing": 2.0},
        HIGH,
        negatable=False,
        unless=_rx(r"eau chaude", r"cave", r"inond\w*"),
    ),
    _cue(
        "no electricity",
        _rx(
            _NO + r" (?:d |de |du )?(?:electricite|courant|jus)",
            r"coupure (?:de |d )?(?:courant|electricite)",
            r"panne (?:de |d )?(?:courant|electricite)",
            r"panne electrique",
            r"disjoncteur"
            + _gap(4)
            + r" (?:ne se rearme|ne tient|ne reste|se rearme pas|saute (?:sans arret|en "
            r"permanence|tout le temps|des qu|directement|a chaque fois|constamment|en boucle))",
            _NO + r" (?:de )?lumiere (?:ni|dans tout|dans l appartement|dans le logement)",
        ),
        {"electricity": 2.5},
        HIGH,
        negatable=False,
        unless=_COMMON_PLACE,
    ),
]

# --- categories -------------------------------------------------------------------------------
# Three tiers per category: strong words name the domain, medium words usually belong to it,
# weak words only lean. A cue counts once per message (a little more for several distinct hits).

STRONG, MEDIUM, WEAK = 2.5, 1.5, 0.6

CATEGORY_CUES: list[Cue] = [
    # plumbing
    _cue(
        "leak",
        _rx(r"fuites?(?! (?:de |du )?gaz)", r"fuit", r"fuient", r"fuyait", r"suint\w*"),
        {"plumbing": STRONG},
    ),
    _cue(
        "plumbing fixture",
        _rx(
            r"robinets?",
            r"robinetterie",
            r"eviers?",
            r"lavabos?",
            r"siphons?",
            r"canalisations?",
            r"tuyau\w*",
            r"wc",
            r"toilettes",
            r"chasse d eau",
            r"cuvette",
            r"bonde",
            r"mitigeurs?",
            r"plombi\w*",
            r"degats? des eaux",
            r"egouts?",
            r"engorge\w*",
            r"debouch\w*",
            r"colonne d eau",
            r"lave mains",
            r"compteur d eau",
            r"arrivee d eau",
            r"pression d eau",
            r"evacuations?",
            r"s evacue\w*",
        ),
        {"plumbing": STRONG},
    ),
    _cue(
        "bathroom fitting",
        _rx(
            r"baignoire",
            r"douche",
            r"bac a douche",
            r"flexible",
            r"joints?",
            r"chasse",
            r"reservoir",
            r"machine a laver",
            r"lave linge",
            r"vidange",
            r"abattant",
            r"goutte\w*",
        ),
        {"plumbing": MEDIUM},
    ),
    _cue(
        "blocked",
        _rx(r"bouche\w*(?! (?:d |de )(?:aeration|ventilation|extraction|vmc|air))", r"obstrue\w*"),
        {"plumbing": MEDIUM},
    ),
    _cue(
        "water",
        _rx(r"eau", r"mouille\w*", r"trempe\w*", r"bassine", r"seaux?", r"serpilliere\w*"),
        {"plumbing": WEAK},
    ),
    # heating and hot water
    _cue(
        "heating",
        _rx(
            r"chauffage\w*",
            r"chaudieres?",
            r"radiateurs?",
            r"eau chaude",
            r"cumulus",
            r"chauffe eau",
            r"chauffe bain",
            r"thermostat\w*",
            r"seche serviettes?",
            r"chauffagiste",
            r"robinet thermostatique",
            r"ramonage",
            r"convecteurs?",
            r"plancher chauffant",
            r"chaufferie",
            r"ballon d eau",
        ),
        {"heating_hot_water": STRONG},
    ),
    _cue(
        "heat or gas",
        _rx(
            r"chauffe(?:nt)?",
            r"tiedes?",
            r"purge\w*",
            r"gazinier\w*",
            r"gaz",
            r"ballon",
            r"chaud",
            r"temperature",
        ),
        {"heating_hot_water": MEDIUM},
    ),
    _cue(
        "cold",
        _rx(
            r"froid",
            r"froids",
            r"glacial\w*",
            r"gele\w*",
            r"degres",
            r"on caille",
            r"frigorifi\w*",
            r"couvertures?",
            r"manteaux?",
        ),
        {"heating_hot_water": WEAK},
    ),
    # electricity
    _cue(
        "electricity",
        _rx(
            r"electri\w*",
            r"prises?(?! (?:en charge|de rendez|de rdv|de contact|de position|de sang|d effet|tv"
            r"|television|antenne|telephone|de vue|de conscience|de note|de poids|de parole|d air))",
            r"interrupteurs?",
            r"disjonct\w*",
            r"tableau electrique",
            r"compteur electrique",
            r"linky",
            r"fusibles?",
            r"plafonniers?",
            r"court circuit",
            r"courant(?! d air)",
            r"va et vient",
            r"differentiel",
            r"prise de courant",
        ),
        {"electricity": STRONG},
    ),
    _cue(
        "lighting",
        _rx(
            r"spots?",
            r"eclairage",
            r"lumieres?",
            r"ampoules?",
            r"lampes?",
            r"applique",
            r"sonnette",
            r"s allume\w*",
            r"clignot\w*",
            r"gresill\w*",
        ),
        {"electricity": MEDIUM},
    ),
    # lift
    _cue("lift", _rx(r"ascenseurs?", r"monte charge", r"ascensoriste"), {"lift": 3.0}),
    _cue("lift cabin", _rx(r"cabine", r"palier", r"etages?"), {"lift": WEAK}),
    # access and security
    _cue(
        "access control",
        _rx(
            r"serrures?",
            r"verrous?",
            r"cylindres?",
            r"badges?",
            r"vigik",
            r"digicode",
            r"interphones?",
            r"visiophones?",
            r"portail",
            r"cambriol\w*",
            r"effraction",
            r"fractur\w*",
            r"intrusion",
            r"porte d entree",
            r"porte paliere",
            r"porte palier",
            r"serrurier",
            r"gache",
            r"ventouse",
            r"groom",
            r"code d acces",
            r"code de la porte",
            r"double des cles",
            r"telecommandes?",
            r"bips?",
        ),
        {"access_security": STRONG},
    ),
    _cue(
        "door, window or key",
        _rx(
            r"cles?",
            r"clefs?",
            r"vitres?",
            r"carreaux?",
            r"vitrage",
            r"baie vitree",
            r"portes?",
            r"securite",
            r"vol",
            r"voles?",
            r"volee?s?",
            r"squat\w*",
            r"brise\w*",
            r"fele\w*",
            r"fissuree?",
            r"verre",
            r"fenetres?",
            r"ferme\w*",
            r"ouvr\w*",
        ),
        {"access_security": WEAK},
    ),
    # common areas
    _cue(
        "common areas",
        _rx(
            r"parties communes",
            r"cage d escaliers?",
            r"local (?:a )?(?:poubelles?|ordures|velos?|encombrants"
            r"|poussettes)",
            r"poubelles?",
            r"ordures",
            r"encombrants",
            r"menage",
            r"proprete",
            r"tags?",
            r"graffitis?",
            r"boites? aux lettres",
            r"boite a lettres",
            r"espaces? verts?",
            r"pelouse",
            r"haies?",
            r"tonte",
            r"tondu\w*",
            r"minuterie",
            r"containers?",
            r"conteneurs?",
            r"detritus",
            r"dechets",
            r"ramassage",
            r"gardien\w*",
            r"vandalis\w*",
        ),
        {"common_areas": STRONG},
    ),
    _cue(
        "shared spaces",
        _rx(
            r"hall",
            r"(?<!cage d )escaliers?",
            r"couloirs?",
            r"nettoy\w*",
            r"sales?",
            r"salete",
            r"urine",
            r"cour",
            r"parking",
            r"sous sol",
            r"neons?",
            r"courrier",
            r"etiquette",
            r"encombre\w*",
            r"matelas",
            r"prospectus",
            r"jonche\w*",
            r"crachats?",
            r"seringues?",
            r"degoutant\w*",
            r"pue\w*",
            r"sacs?",
            r"coursive",
            r"local(?! (?:a )?(?:poubelles?|ordures|velos?|encombrants|poussettes))",
            r"lave\w*",
            r"degrade\w*",
            r"entretien",
            r"bacs?",
            r"abandonne\w*",
        ),
        {"common_areas": MEDIUM},
    ),
    _cue(
        "common lighting",
        r"(?:"
        + _rx(r"lumieres?", r"eclairage", r"ampoules?", r"neons?", r"minuterie", r"eteint\w*", r"grille\w*")
        + r".*"
        + _COMMON_PLACE
        + r"|"
        + _COMMON_PLACE
        + r".*"
        + _rx(
            r"lumieres?",
            r"eclairage",
            r"ampoules?",
            r"neons?",
            r"minuterie",
            r"dans le noir",
            r"grille\w*",
            r"eteint\w*",
        )
        + r")",
        {"common_areas": STRONG},
    ),
    # pests
    _cue(
        "pests",
        _rx(
            r"cafards?",
            r"blattes?",
            r"punaises?",
            r"souris",
            r"rats?",
            r"rongeurs?",
            r"mulots?",
            r"derati\w*",
            r"desinsect\w*",
            r"nuisibles?",
            r"fourmis",
            r"guepes?",
            r"frelons?",
            r"puces",
            r"pigeons?",
            r"moucherons",
            r"mites",
            r"cancrelats?",
            r"vermine",
            r"termites?",
            r"essaims?",
            r"fientes?",
            r"larves?",
            r"araignees?",
            r"rate",
            r"moustiques?",
            r"tiques?",
            r"poux",
            r"chenilles?",
            r"lerots?",
            r"fouines?",
            r"loirs?",
            r"chauves? souris",
            r"serpents?",
            r"scorpions?",
            r"dedetisation",
        ),
        {"pests": 4.0},
    ),
    _cue(
        "pest signs",
        _rx(
            r"crottes",
            r"piqures?",
            r"piquent",
            r"pique",
            r"insectes?",
            r"bestioles?",
            r"betes?",
            r"traitement",
            r"nids?",
            r"grignot\w*",
            r"desinfect\w*",
        ),
        {"pests": MEDIUM},
    ),
    # damp and ventilation
    _cue(
        "damp or ventilation",
        _rx(
            r"moisi\w*",
            r"humid\w*",
            r"condensation",
            r"buee",
            r"embue\w*",
            r"vmc",
            r"ventilations?",
            r"aerations?",
            r"bouches? (?:d |de )(?:aeration|ventilation|extraction|vmc|air)",
            r"grilles? (?:d |de )(?:aeration|ventilation)",
            r"entrees? d air",
            r"extracteur",
            r"champignons?",
            r"salpetre",
            r"infiltrations?",
            r"taches? noires?",
            r"aureoles?",
            r"hygrometr\w*",
            r"ponts? thermiques?",
            r"mal aere",
            r"odeur de renferme",
            r"suintement",
        ),
        {"damp_ventilation": 3.0},
    ),
    _cue(
        "damp signs",
        _rx(
            r"ventilateur",
            r"aspir\w*",
            r"cloques?",
            r"papier peint",
            r"isolation",
            r"ruissel\w*",
            r"noirs? de",
            r"tout noir",
            r"renferme",
            r"noirci\w*",
        ),
        {"damp_ventilation": MEDIUM},
    ),
    # neighbours
    _cue("neighbour", _rx(r"voisins?", r"voisines?", r"voisinage"), {"neighbour_disturbance": 2.0}),
    _cue(
        "disturbance",
        _rx(
            r"bruits?",
            r"bruyants?",
            r"bruyante",
            r"tapage\w*",
            r"nuisances?",
            r"musique",
            r"fetes?",
            r"cri\w*",
            r"hurl\w*",
            r"disput\w*",
            r"aboi\w*",
            r"insult\w*",
            r"menac\w*",
            r"agress\w*",
            r"intimid\w*",
            r"harcel\w*",
            r"trafic",
            r"drogue\w*",
            r"dealers?",
            r"cannabis",
            r"shit",
            r"stupefiants?",
            r"rodeos?",
            r"incivilit\w*",
            r"sono",
            r"violen\w*",
            r"bagarres?",
            r"tapent",
            r"perceuse",
            r"talons",
            r"fument",
            r"alcool",
            r"boivent",
            r"ivres?",
            r"saouls?",
            r"nuisible (?:voisin)",
            r"se reunissent",
            r"rassemblements?",
            r"aboie\w*",
            r"frappe\w* (?:au|sur le) (?:plafond|mur|sol)",
        ),
        {"neighbour_disturbance": STRONG},
    ),
    _cue(
        "nuisance context",
        _rx(
            r"soirees?",
            r"chiens?",
            r"tap\w*",
            r"claqu\w*",
            r"jeunes",
            r"cigarettes?",
            r"tabac",
            r"camera",
            r"conflits?",
            r"sautent",
            r"courent",
            r"a fond",
            r"tard",
            r"nuit",
            r"minuit",
            r"dormir",
            r"sommeil",
            r"encens",
            r"megots?",
            r"gare\w*",
            r"stationn\w*",
            r"squatt\w*",
            r"attroupement\w*",
            r"scooters?",
            r"motos?",
            r"odeur de cannabis",
            r"dessus",
            r"dessous",
            r"d en face",
            r"de palier",
        ),
        {"neighbour_disturbance": WEAK},
    ),
    # rent and charges
    _cue(
        "rent or charges",
        _rx(
            r"loyers?",
            r"(?<!prise en )charges?(?! de (?:batterie|travail))",
            r"regularisation\w*",
            r"avis d echeance",
            r"prelev\w*",
            r"apl",
            r"aides? au logement",
            r"allocations? (?:logement|familiales)",
            r"aide personnalisee",
            r"impayes?",
            r"dettes?",
            r"echeanciers?",
            r"depot de garantie",
            r"retard de paiement",
            r"supplement de loyer",
            r"sls",
            r"quittances?",
            r"trop percu",
            r"compte locataire",
            r"delai de paiement",
            r"decomptes?",
            r"paiements?",
            r"virements?",
            r"payer",
        ),
        {"rent_charges": STRONG},
    ),
    _cue(
        "money",
        _rx(
            r"caf",
            r"paye",
            r"payes?",
            r"payee",
            r"caution",
            r"factur\w*",
            r"rembours\w*",
            r"euros?",
            r"eur",
            r"solde",
            r"relance\w*",
            r"montant",
            r"provisions?",
            r"augment\w*",
            r"frais",
            r"argent",
            r"carte bancaire",
            r"cb",
            r"reglement",
            r"regler",
            r"dois encore",
            r"somme",
            r"tarif\w*",
            r"cheque",
            r"echeance",
            r"cher",
            r"chere",
            r"banque",
        ),
        {"rent_charges": MEDIUM},
    ),
    # administrative
    _cue(
        "administrative",
        _rx(
            r"attestations?",
            r"certificats?",
            r"justificatifs?",
            r"bail",
            r"baux",
            r"preavis",
            r"resili\w*",
            r"etat des lieux",
            r"mutations?",
            r"echange de logement",
            r"changement de logement",
            r"changer de logement",
            r"demande de logement",
            r"logement plus (?:grand|petit)",
            r"logement adapte",
            r"composition familiale",
            r"situation familiale",
            r"changement de situation",
            r"espace locataire",
            r"mot de passe",
            r"identifiants?",
            r"rib",
            r"coordonnees",
            r"enquete\w*",
            r"titulaires?",
            r"justificatif de domicile",
            r"cotitulaire",
            r"avenant",
            r"assurance habitation",
            r"assureur",
            r"attestation d assurance",
        ),
        {"administrative": STRONG},
    ),
    _cue(
        "paperwork",
        _rx(
            r"conges?",
            r"demenag\w*",
            r"quitte\w* (?:le|mon) logement",
            r"mariage",
            r"marie\w*",
            r"divorc\w*",
            r"separ\w*",
            r"deces",
            r"decede\w*",
            r"naissance",
            r"pacs\w*",
            r"assurances?",
            r"dossier",
            r"adresse mail",
            r"e mail",
            r"email",
            r"numero de telephone",
            r"conjoint\w*",
            r"contrat",
            r"signature",
            r"documents?",
            r"formulaires?",
            r"conseill\w*",
            r"copie",
            r"pieces? jointes?",
            r"domicile",
            r"transfert",
            r"prefecture",
            r"naturalisation",
            r"mise en demeure",
            r"retraite",
            r"epouse",
            r"mari",
            r"employeur",
            r"declarer",
            r"declaration",
            r"vivre chez moi",
            r"heberg\w*",
            r"foyer",
            r"compagnon",
            r"compagne",
            r"majeurs?",
            r"personne a charge",
            r"tutelle",
            r"curatelle",
            r"procuration",
        ),
        {"administrative": MEDIUM},
    ),
    _cue(
        "request",
        _rx(r"demande", r"rendez vous", r"agence", r"logement plus", r"sortie", r"handicap"),
        {"administrative": WEAK},
    ),
    # other (the building itself, fittings not covered above)
    _cue(
        "fittings and works",
        _rx(
            r"volets?",
            r"stores?",
            r"parquet",
            r"carrelage",
            r"faience",
            r"antennes?",
            r"paraboles?",
            r"tv",
            r"television",
            r"chaines?",
            r"fibre",
            r"internet",
            r"peintures?",
            r"repeindre",
            r"plinthes?",
            r"lino\w*",
            r"moquette",
            r"plan de travail",
            r"cloisons?",
            r"etageres?",
            r"garde corps",
            r"rambarde",
            r"ravalement",
            r"toiture",
            r"hotte",
            r"charnieres?",
            r"sangle",
            r"manivelle",
            r"lave vaisselle",
            r"portes? de placard",
            r"portes? du placard",
            r"animal",
            r"animaux",
        ),
        {"other": STRONG},
    ),
    _cue(
        "building and works",
        _rx(
            r"fissures?",
            r"sols?",
            r"placards?",
            r"percer",
            r"chat",
            r"facade",
            r"toit",
            r"travaux",
            r"renovation",
            r"four",
            r"plaques?",
            r"cuisiniere",
            r"merci pour",
            r"technicien",
            r"entreprise",
            r"jardin",
            r"poignee",
            r"meubles? (?:sous|de cuisine|haut)",
            r"rail",
            r"plafond",
            r"murs?",
            r"balcon",
            r"terrasse",
            r"beton",
            r"jamais venu\w*",
            r"installer",
            r"poser",
            r"amenagement",
            r"gonfle\w*",
            r"decolle\w*",
            r"souleve\w*",
            r"abime\w*",
            r"effondr\w*",
            r"arbres?",
            r"branches?",
            r"aire de jeux",
            r"climatiseur",
            r"clim",
            r"seuil",
            r"porte fenetre",
            r"voile\w*",
            r"troue\w*",
            r"dechire\w*",
            r"fissure\w*",
        ),
        {"other": MEDIUM},
    ),
]

ALL_CUES: list[Cue] = URGENT_CUES + HIGH_CUES + CATEGORY_CUES
