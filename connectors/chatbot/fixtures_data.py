"""Data of the chatbot sandbox: tenant messages with their expected triage, cities, domains.

The message bank is what tenants of a French social landlord really write to a chatbot, in
varied registers (polite, SMS style, spelling mistakes, distressed). Each message carries the
category and urgency a correct triage gives it, so the demo can measure the AI triage:

* ``urgent`` — danger to people or to the building: gas smell, smoke or fire, flooding or an
  active leak into another dwelling, electrical hazard, someone stuck in a lift, a dwelling
  that cannot be locked, sewage overflow;
* ``high`` — an essential service lost without danger: no hot water, no heating, no power at
  all, lift out of service, the only toilet blocked;
* ``normal`` — everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The request taxonomy shared with the hub's triage.
CATEGORIES: tuple[str, ...] = (
    "plumbing",
    "heating_hot_water",
    "electricity",
    "lift",
    "access_security",
    "common_areas",
    "pests",
    "damp_ventilation",
    "neighbour_disturbance",
    "rent_charges",
    "administrative",
    "other",
)

Urgency = Literal["urgent", "high", "normal"]
Register = Literal["polite", "sms", "typos", "distressed"]
Intent = Literal["report", "question"]


@dataclass(frozen=True)
class BankMessage:
    """One tenant message of the bank with its expected triage.

    Attributes:
        text: The message as the tenant typed it.
        category: Expected request category (one of :data:`CATEGORIES`).
        urgency: Expected urgency.
        register: How it is written.

    """

    text: str
    category: str
    urgency: Urgency
    register: Register
    intent: Intent = "report"


def _m(text: str, category: str, urgency: Urgency, register: Register,
       intent: Intent = "report") -> BankMessage:
    return BankMessage(text=text, category=category, urgency=urgency, register=register,
                       intent=intent)


MESSAGE_BANK: tuple[BankMessage, ...] = (
    # plumbing
    _m("Bonjour, j'ai une fuite sous l'évier de la cuisine, ça goutte dans le meuble depuis "
       "hier. Pouvez-vous envoyer quelqu'un ? Merci.", "plumbing", "normal", "polite"),
    _m("slt fuite sous evier cuisine, jai mis une bassine", "plumbing", "normal", "sms"),
    _m("Bonjour, mes WC sont bouchés et ce sont les seules toilettes du logement, on ne peut "
       "plus les utiliser. Merci d'intervenir rapidement.", "plumbing", "high", "polite"),
    _m("wc bouché depuis ce matin, on a pas d'autre toilette, on fait comment avec les "
       "enfants ??", "plumbing", "high", "sms"),
    _m("Au secours, un tuyau a éclaté dans la salle de bain, l'eau coule partout et passe chez "
       "le voisin du dessous !", "plumbing", "urgent", "distressed"),
    _m("Bonjour, les eaux usées remontent par la douche et l'évier, ça déborde et ça sent les "
       "égouts dans tout l'appartement.", "plumbing", "urgent", "polite"),
    _m("Le robinet du lavabo fuit goutte à goutte, pourriez-vous le faire changer ?",
       "plumbing", "normal", "polite"),
    _m("bjr la chasse d'eau coule en continu sa fait du bruit toute la nuit",
       "plumbing", "normal", "typos"),
    _m("Madame, Monsieur, l'évacuation de la baignoire est très lente, l'eau met une heure à "
       "s'écouler. Cordialement.", "plumbing", "normal", "polite"),
    _m("Il y a une inondation dans les caves du bâtiment B, l'eau monte, ça vient d'une "
       "canalisation cassée", "plumbing", "urgent", "distressed"),
    _m("jai un degat des eaux le plafond de la cuisine goutte ça vient de chez le voisin du "
       "haut", "plumbing", "urgent", "typos"),
    # heating_hot_water
    _m("Bonjour, nous n'avons plus d'eau chaude depuis deux jours. Merci de faire le "
       "nécessaire.", "heating_hot_water", "high", "polite"),
    _m("plus d eau chaude depuis hier soir !!! c pas normal avec un bébé",
       "heating_hot_water", "high", "sms"),
    _m("Bonjour, le radiateur de la chambre des enfants reste froid alors que les autres "
       "chauffent. Pouvez-vous passer le purger ?", "heating_hot_water", "normal", "polite"),
    _m("radiateur du salon froid", "heating_hot_water", "normal", "sms"),
    _m("Bonjour, la chaudière est en panne, elle affiche un code erreur et nous n'avons ni "
       "chauffage ni eau chaude.", "heating_hot_water", "high", "polite"),
    _m("Ça sent très fort le gaz dans la cuisine à côté de la chaudière, j'ai ouvert les "
       "fenêtres, qu'est-ce que je dois faire ?", "heating_hot_water", "urgent", "distressed"),
    _m("aucun radiateur chauffe dans l'appart il fait 14 degrés on a froid",
       "heating_hot_water", "high", "typos"),
    _m("Bonjour, le chauffage collectif ne marche plus dans tout l'immeuble depuis ce matin.",
       "heating_hot_water", "high", "polite"),
    _m("le ballon d'eau chaude fuit un peu par en dessous mais on a toujours de l'eau chaude",
       "heating_hot_water", "normal", "sms"),
    _m("Bonjour, il y a une odeur de gaz dans la cage d'escalier au 3e étage.",
       "heating_hot_water", "urgent", "polite"),
    _m("la chaudiere fait un bruit bizare et se met en securité plusieur fois par jour, on a "
       "quand même de l'eau chaude", "heating_hot_water", "normal", "typos"),
    # electricity
    _m("Bonjour, le disjoncteur saute dès que j'allume le four et la machine à laver en même "
       "temps.", "electricity", "normal", "polite"),
    _m("disjoncteur qui saute tt le temps, on a plus de courant du tout depuis ce matin",
       "electricity", "high", "sms"),
    _m("Une prise de la chambre a grillé, il y a eu des étincelles et une odeur de brûlé, j'ai "
       "coupé le courant.", "electricity", "urgent", "distressed"),
    _m("Bonjour, il y a de la fumée qui sort du tableau électrique !",
       "electricity", "urgent", "distressed"),
    _m("la prise de la cuisine marche plus", "electricity", "normal", "sms"),
    _m("Des fils électriques dénudés pendent du plafond dans l'entrée du bâtiment, les enfants "
       "peuvent les toucher.", "electricity", "urgent", "polite"),
    _m("Bonjour, l'interrupteur de la salle de bain est cassé, la lumière ne s'allume plus.",
       "electricity", "normal", "polite"),
    # lift
    _m("L'ascenseur est encore en panne, j'habite au 9e avec une poussette, c'est la troisième "
       "fois ce mois-ci.", "lift", "high", "polite"),
    _m("ascenseur en panne bat C depuis vendredi", "lift", "high", "sms"),
    _m("URGENT une personne est bloquée dans l'ascenseur entre le 4e et le 5e étage",
       "lift", "urgent", "distressed"),
    _m("Ma mère est coincée dans l'ascenseur depuis 20 minutes et le bouton d'alarme ne marche "
       "pas !!", "lift", "urgent", "distressed"),
    _m("Bonjour, les portes de l'ascenseur se referment très vite et l'affichage des étages est "
       "éteint, mais il fonctionne.", "lift", "normal", "polite"),
    _m("lascenseur marche plus je suis en fauteuil roulant je peu plus sortir de chez moi",
       "lift", "high", "typos"),
    # access_security
    _m("Bonjour, la porte du hall d'entrée est cassée, elle ne ferme plus et n'importe qui peut "
       "entrer.", "access_security", "normal", "polite"),
    _m("mon badge marche plus pour ouvrir la porte du parking", "access_security", "normal",
       "sms"),
    _m("L'interphone ne sonne plus chez moi, les livreurs ne peuvent pas me joindre.",
       "access_security", "normal", "polite"),
    _m("On a été cambriolés cette nuit, la porte de l'appartement est fracturée et ne ferme "
       "plus à clé.", "access_security", "urgent", "distressed"),
    _m("j ai cassé ma clé dans la serrure, impossible de fermer la porte de chez moi",
       "access_security", "urgent", "typos"),
    _m("Bonjour, pourrais-je avoir un badge supplémentaire pour mon fils ? Merci d'avance.",
       "access_security", "normal", "polite"),
    _m("la porte du local vélos a été forcée", "access_security", "normal", "sms"),
    _m("Bonjour, la serrure de ma boîte aux lettres est cassée.", "access_security", "normal",
       "polite"),
    # common_areas
    _m("Des encombrants (un canapé et un matelas) sont déposés devant le local poubelles "
       "depuis une semaine.", "common_areas", "normal", "polite"),
    _m("Bonjour, l'éclairage de la cage d'escalier ne fonctionne plus du 2e au 5e étage, on ne "
       "voit rien le soir.", "common_areas", "normal", "polite"),
    _m("le hall est super sale personne a nettoyé depuis 15 jours", "common_areas", "normal",
       "sms"),
    _m("Il y a de la fumée qui sort du local poubelles, je crois qu'il y a le feu !",
       "common_areas", "urgent", "distressed"),
    _m("Bonjour, les conteneurs à ordures débordent, pourriez-vous faire passer le ramassage ?",
       "common_areas", "normal", "polite"),
    _m("Un tag injurieux a été fait sur la porte du hall, pouvez-vous le faire effacer ?",
       "common_areas", "normal", "polite"),
    _m("minuterie de l'escalier en panne encore", "common_areas", "normal", "sms"),
    # pests
    _m("Bonjour, nous avons des cafards dans la cuisine malgré nos traitements, pouvez-vous "
       "prévoir une désinsectisation ?", "pests", "normal", "polite"),
    _m("ya des cafards partout dans la cuisine et la salle de bain c degoutant", "pests",
       "normal", "typos"),
    _m("Je pense que nous avons des punaises de lit, mes enfants ont des piqûres tous les "
       "matins.", "pests", "normal", "polite"),
    _m("Bonjour, des rats sortent du local poubelles et se promènent dans la cour.", "pests",
       "normal", "polite"),
    _m("on entend des souris dans les murs la nuit", "pests", "normal", "sms"),
    _m("Il y a un nid de guêpes sous le balcon.", "pests", "normal", "polite"),
    # damp_ventilation
    _m("Bonjour, il y a des moisissures noires sur les murs de la chambre et mon fils est "
       "asthmatique.", "damp_ventilation", "normal", "polite"),
    _m("la vmc fait un bruit terrible jour et nuit", "damp_ventilation", "normal", "sms"),
    _m("La VMC ne fonctionne plus, il y a beaucoup de condensation sur les fenêtres.",
       "damp_ventilation", "normal", "polite"),
    _m("bjr bcp d'humidité dans la salle de bain le plafond devient noir", "damp_ventilation",
       "normal", "sms"),
    _m("Bonjour, les bouches d'aération de la cuisine n'aspirent plus rien.",
       "damp_ventilation", "normal", "polite"),
    _m("Le papier peint se décolle à cause de l'humiditer, il y a du salpêtre en bas des murs",
       "damp_ventilation", "normal", "typos"),
    # neighbour_disturbance
    _m("Bonjour, mon voisin du dessus fait beaucoup de bruit toutes les nuits jusqu'à 3h du "
       "matin.", "neighbour_disturbance", "normal", "polite"),
    _m("encore des jeunes qui squattent le hall et font du bruit tard le soir",
       "neighbour_disturbance", "normal", "sms"),
    _m("Le chien du voisin aboie toute la journée quand il n'est pas là.",
       "neighbour_disturbance", "normal", "polite"),
    _m("Ma voisine fait des travaux le dimanche à 8h du matin, c'est insupportable.",
       "neighbour_disturbance", "normal", "distressed"),
    _m("des voisins jettent leurs poubelles par la fenetre", "neighbour_disturbance", "normal",
       "typos"),
    _m("musique a fond tous les soirs au 4e j'en peux plus", "neighbour_disturbance", "normal",
       "sms"),
    # rent_charges
    _m("Bonjour, je ne comprends pas ma régularisation des charges, elle est de 450 € cette "
       "année. Pouvez-vous m'envoyer le détail ?", "rent_charges", "normal", "polite"),
    _m("mon APL apparait pas sur mon avis d'échéance ce mois ci", "rent_charges", "normal",
       "sms"),
    _m("Bonjour, je souhaite mettre en place le prélèvement automatique pour mon loyer.",
       "rent_charges", "normal", "polite"),
    _m("J'ai des difficultés pour payer mon loyer ce mois-ci, est-il possible d'avoir un "
       "échéancier ?", "rent_charges", "normal", "polite"),
    _m("pourquoi mon loyer a augmenté en janvier ?", "rent_charges", "normal", "sms"),
    _m("Bonjour, j'ai payé deux fois le loyer de mars par erreur, pouvez-vous me rembourser ?",
       "rent_charges", "normal", "polite"),
    _m("la CAF dit qu'elle vous a versé l'aide au logement directement mais vous me la "
       "réclamez quand meme", "rent_charges", "normal", "typos"),
    # administrative
    _m("Bonjour, pouvez-vous m'envoyer une attestation de loyer pour la CAF ?",
       "administrative", "normal", "polite"),
    _m("Bonjour, je souhaite donner mon préavis, je quitte le logement à la fin du mois "
       "prochain. Quelle est la procédure ?", "administrative", "normal", "polite", "question"),
    _m("je me suis marié, je voudrais ajouter mon mari sur le bail", "administrative",
       "normal", "sms"),
    _m("Bonjour, suite à mon divorce je voudrais retirer le nom de mon ex-conjoint du bail.",
       "administrative", "normal", "polite"),
    _m("besoin d'une quittance de loyer svp pour mon dossier", "administrative", "normal",
       "sms"),
    _m("Bonjour, je vous envoie mon attestation d'assurance habitation pour cette année.",
       "administrative", "normal", "polite"),
    _m("Je viens de perdre mon emploi et mes revenus ont changé, à qui dois-je le signaler ?",
       "administrative", "normal", "polite", "question"),
    _m("Je voudrais faire une demande de mutation pour un logement plus grand, nous sommes 5 "
       "dans un T2.", "administrative", "normal", "polite"),
    _m("comment je fait pour changer mon adresse mail sur mon espace locataire",
       "administrative", "normal", "typos", "question"),
    # questions about the tenant's own records (the assistant answers them)
    _m("Bonjour, où en est ma demande de réparation ? Je n'ai pas de nouvelles depuis la "
       "semaine dernière.", "other", "normal", "polite", "question"),
    _m("le plombier passe quand ?", "plumbing", "normal", "sms", "question"),
    _m("Bonjour, mon attestation d'assurance a-t-elle bien été acceptée ?", "administrative",
       "normal", "polite", "question"),
    _m("quand a lieu la visite avant mon etat des lieux de sortie", "administrative", "normal",
       "typos", "question"),
    _m("Comment puis-je payer mon loyer par prélèvement ?", "rent_charges", "normal", "polite",
       "question"),
)

#: Cities with social housing, each with the postcodes the sandbox draws from.
CITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Lyon", ("69003", "69005", "69007", "69008", "69009")),
    ("Villeurbanne", ("69100",)),
    ("Vénissieux", ("69200",)),
    ("Vaulx-en-Velin", ("69120",)),
    ("Saint-Denis", ("93200",)),
    ("Aubervilliers", ("93300",)),
    ("Montreuil", ("93100",)),
    ("Bobigny", ("93000",)),
    ("Sarcelles", ("95200",)),
    ("Roubaix", ("59100",)),
    ("Tourcoing", ("59200",)),
    ("Marseille", ("13003", "13013", "13014", "13015")),
    ("Grenoble", ("38100",)),
    ("Échirolles", ("38130",)),
    ("Toulouse", ("31100", "31200")),
    ("Rennes", ("35200",)),
    ("Nantes", ("44300",)),
)

#: E-mail domains French tenants use.
EMAIL_DOMAINS: tuple[str, ...] = (
    "orange.fr", "free.fr", "gmail.com", "laposte.net", "sfr.fr", "hotmail.fr", "wanadoo.fr",
    "yahoo.fr", "outlook.fr", "bbox.fr",
)

#: Channels with their weights (WhatsApp dominates, SMS for older tenants, web chat).
CHANNELS: tuple[tuple[str, int], ...] = (("whatsapp", 5), ("sms", 3), ("web", 2))
