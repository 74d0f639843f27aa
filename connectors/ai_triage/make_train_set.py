"""Build the triage training set ``data/train.jsonl`` (deterministic by seed).

The training items are *hand-written cores* (one tenant problem each, labelled with category
and urgency) expanded with openers, context and closings, then degraded the way real messages
are: accents dropped, SMS abbreviations, typos, capitals. The evaluation set
(``data/eval.jsonl``) is written separately, sentence by sentence, and never generated from
these cores, so the figures of ``pivot ai eval`` measure generalisation, not recall of templates.

Run ``python -m connectors.ai_triage.make_train_set`` to regenerate; the output is committed.
"""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
TRAIN_PATH = DATA_DIR / "train.jsonl"
SEED = 20250317
VARIANTS_PER_CORE = 4

# (category, urgency) → cores. Keep each core a self-contained complaint.
CORES: dict[tuple[str, str], list[str]] = {
    ("plumbing", "urgent"): [
        "l'eau sort à gros bouillons d'un tuyau dans la cuisine et on n'arrive pas à couper",
        "mon appartement est inondé, il y a de l'eau dans toutes les pièces",
        "une canalisation a explosé dans le mur de la salle de bain, ça coule partout",
        "l'eau traverse le plafond du salon et coule sur le canapé, ça vient de l'étage du dessus",
        "dégât des eaux en cours, le plafond de la chambre est gorgé d'eau et s'affaisse",
        "les eaux usées remontent par l'évier et les toilettes, il y a des excréments dans la baignoire",
        "refoulement d'égout dans la cave et au rez-de-chaussée, l'odeur est insoutenable",
        "le tuyau d'arrivée d'eau a pété, ça inonde le palier et ça descend dans l'escalier",
        "fuite d'eau très importante, ça coule chez le voisin du dessous qui a l'eau au plafond",
        "la colonne d'eau commune fuit dans la gaine technique et l'eau ruisselle dans le couloir",
        "le robinet d'arrêt ne ferme plus et l'eau jaillit du raccord sous l'évier",
        "les toilettes refoulent de l'eau sale qui se répand dans tout l'appartement",
        "le chauffe-eau s'est percé et l'eau inonde le cellier, elle arrive sous les portes",
        "le ballon d'eau chaude a éclaté et le sol de la cuisine est sous l'eau",
        "ça déborde de partout par la bonde de douche, eaux noires, égouts bouchés",
    ],
    ("plumbing", "high"): [
        "les toilettes sont bouchées, c'est le seul wc de la maison et plus rien ne s'évacue",
        "le wc est bouché depuis hier soir, on n'a pas d'autres toilettes",
        "nous n'avons plus d'eau du tout au robinet, ni froide ni chaude",
        "l'eau est coupée dans mon logement sans prévenir depuis ce matin",
        "la cuvette des toilettes est bouchée et l'eau monte quand on tire la chasse, unique wc",
        "plus d'eau froide dans l'appartement, les robinets ne donnent rien",
    ],
    ("plumbing", "normal"): [
        "le robinet de la cuisine fuit goutte à goutte",
        "l'évacuation de la baignoire est lente, l'eau met longtemps à partir",
        "le lavabo de la salle de bain est bouché",
        "la chasse d'eau ne s'arrête pas de couler",
        "il y a une petite fuite au niveau du siphon de l'évier",
        "le joint du robinet est usé, ça goutte en permanence",
        "le mécanisme de la chasse d'eau est cassé, le bouton reste enfoncé",
        "la douche s'évacue mal et l'eau stagne dans le bac",
        "le raccord du flexible de douche fuit",
        "la pression de l'eau est faible dans la salle de bain",
        "l'évier de la cuisine est bouché, l'eau ne descend plus",
        "le tuyau sous l'évier goutte dans le placard",
        "le réservoir des toilettes fuit un peu sur le sol",
        "mauvaises odeurs de canalisation qui remontent par le siphon",
        "la robinetterie de la baignoire est entartrée et fuit",
        "le mitigeur de l'évier est cassé, on ne peut plus régler la température",
        "un peu d'eau sous la machine à laver, je pense que c'est le tuyau d'évacuation",
        "la bonde de la douche est cassée",
        "je voudrais faire vérifier mon compteur d'eau, la consommation est bizarre",
        "le robinet extérieur du jardin fuit",
        "l'abattant des toilettes est cassé et la cuvette est fissurée",
        "le lave-mains des wc est bouché",
        "il y a pas de fuite visible mais le compteur d'eau tourne tout seul",
        "fuite légère au niveau du raccord de la machine à laver",
        "les canalisations font un bruit de coup de bélier quand on ferme le robinet",
    ],
    ("heating_hot_water", "urgent"): [
        "ça sent le gaz dans l'appartement, une odeur forte près de la cuisinière",
        "odeur de gaz dans tout l'immeuble, surtout dans l'escalier",
        "fuite de gaz, on sent le gaz jusque dans le hall",
        "le détecteur de CO s'est déclenché près de la chaudière et on a des maux de tête",
        "la chaudière dégage de la fumée et une odeur de gaz brûlé",
        "plus de chauffage avec un nourrisson de trois semaines et il fait 12 degrés",
        "ma grand-mère de 92 ans n'a plus de chauffage depuis deux jours en plein hiver",
        "nous n'avons plus de chauffage, il neige dehors et mon enfant malade a de la fièvre",
        "chauffage en panne, ma femme est enceinte et il fait très froid dans le logement",
        "personne âgée handicapée sans chauffage depuis samedi, il gèle la nuit",
        "intoxication possible au monoxyde de carbone, toute la famille a des nausées près de la chaudière",
        "la chaudière fait des flammes et une odeur de gaz, j'ai coupé le compteur",
        "plus de chauffage en plein hiver et mon mari est sous dialyse, il a très froid",
        "chaudière morte depuis trois jours, il fait 11 degrés et j'ai un bébé de six mois",
    ],
    ("heating_hot_water", "high"): [
        "nous n'avons plus d'eau chaude depuis deux jours",
        "la chaudière est en panne, plus de chauffage ni d'eau chaude",
        "le chauffage ne marche plus du tout dans l'appartement",
        "le chauffage collectif est coupé dans tout le bâtiment",
        "tous les radiateurs sont froids, le chauffage ne fonctionne pas",
        "le ballon d'eau chaude ne chauffe plus, on se lave à l'eau froide",
        "la chaudière affiche un code défaut et ne redémarre plus",
        "plus de chauffage depuis hier soir, la chaudière est en sécurité",
        "pas d'eau chaude dans le logement depuis la coupure",
        "le cumulus est en panne, il n'y a que de l'eau froide",
        "le chauffage central ne s'est pas remis en route, tout le logement est froid",
        "la chaudière s'est arrêtée et ne veut plus se rallumer",
        "aucun radiateur ne chauffe depuis trois jours",
        "eau chaude coupée dans toute la résidence",
    ],
    ("heating_hot_water", "normal"): [
        "un radiateur de la chambre ne chauffe pas assez",
        "les radiateurs font du bruit, il faudrait les purger",
        "la visite d'entretien de la chaudière n'a pas eu lieu cette année",
        "le thermostat de la chaudière ne répond plus bien",
        "l'eau chaude n'est pas assez chaude au robinet",
        "le radiateur de la salle de bain chauffe seulement en haut",
        "la vanne du radiateur est bloquée",
        "il fait un peu frais dans le séjour, le chauffage collectif est faible",
        "quand le chauffage collectif sera-t-il rallumé cette année ?",
        "la chaudière fait un bruit bizarre au démarrage",
        "le sèche-serviettes ne chauffe plus",
        "le radiateur du salon fuit légèrement au niveau du robinet",
        "la pression de la chaudière baisse souvent",
        "l'eau chaude met longtemps à arriver dans la cuisine",
        "le chauffage est trop fort, on ne peut pas régler les radiateurs",
        "je voudrais savoir quand aura lieu le ramonage et l'entretien de la chaudière",
        "le radiateur de la cuisine est tiède",
        "le programmateur du chauffage est cassé",
    ],
    ("electricity", "urgent"): [
        "des étincelles sortent de la prise du salon",
        "la prise de la chambre fume et sent le brûlé",
        "il y a des fils électriques à nu dans l'entrée, c'est dangereux pour les enfants",
        "le tableau électrique crépite et chauffe, odeur de plastique brûlé",
        "court-circuit dans la cuisine, une flamme est sortie de la prise",
        "mon fils s'est électrocuté en touchant la lampe de la salle de bain",
        "l'interrupteur est brûlant et il y a de la fumée qui en sort",
        "un câble électrique arraché pend dans la cage d'escalier, les fils sont dénudés",
        "de l'eau coule sur les prises électriques et ça fait des étincelles",
        "le compteur électrique a pris feu",
        "la prise a fondu et ça a fait des flammes",
    ],
    ("electricity", "high"): [
        "plus d'électricité dans l'appartement depuis hier",
        "coupure de courant dans mon logement, le disjoncteur ne se réarme pas",
        "nous n'avons plus de courant du tout, les voisins en ont",
        "le disjoncteur général saute sans arrêt, on est dans le noir",
        "panne d'électricité totale chez moi depuis ce matin",
        "plus de lumière ni de prises dans tout le logement",
    ],
    ("electricity", "normal"): [
        "une prise de courant ne fonctionne plus dans la chambre",
        "l'interrupteur de la cuisine est cassé",
        "la lumière de la salle de bain ne s'allume plus",
        "la prise du salon est arrachée du mur",
        "le disjoncteur saute de temps en temps quand on allume le four",
        "il faudrait ajouter des prises dans le séjour",
        "le plafonnier du couloir clignote",
        "l'éclairage de la cuisine ne marche plus",
        "la prise de la salle de bain n'a pas de cache",
        "le tableau électrique est vétuste, je voudrais une vérification",
        "la sonnette électrique de la porte ne marche plus",
        "la lampe du balcon ne fonctionne plus",
        "la prise électrique bouge dans le mur",
        "l'interrupteur du salon fait un petit bruit quand on l'allume",
        "la prise de la hotte ne donne plus de courant",
    ],
    ("lift", "urgent"): [
        "une personne est coincée dans l'ascenseur",
        "je suis bloqué dans l'ascenseur entre deux étages",
        "des enfants sont enfermés dans l'ascenseur depuis un quart d'heure",
        "ma mère est restée bloquée dans la cabine de l'ascenseur, l'alarme ne répond pas",
        "l'ascenseur s'est arrêté avec des personnes à l'intérieur",
        "un voisin est coincé dans l'ascenseur du bâtiment B",
        "l'ascenseur a chuté brutalement avec des gens dedans",
    ],
    ("lift", "high"): [
        "l'ascenseur est en panne depuis hier",
        "l'ascenseur ne fonctionne plus, j'habite au 7e étage",
        "ascenseur hors service depuis une semaine, personne n'intervient",
        "l'ascenseur est bloqué, personne dedans, mais il ne marche plus",
        "l'ascenseur est à l'arrêt, les personnes âgées ne peuvent plus sortir",
        "ascenseur en panne encore, impossible de monter avec les courses et la poussette",
        "les deux ascenseurs de l'immeuble sont en panne",
    ],
    ("lift", "normal"): [
        "les portes de l'ascenseur grincent",
        "le bouton d'appel de l'ascenseur au rez-de-chaussée ne s'allume plus",
        "l'ascenseur fait des secousses en montant",
        "l'éclairage de l'ascenseur est faible",
        "l'ascenseur ne s'arrête pas bien au niveau du palier",
        "l'ascenseur est souvent en panne, quand sera-t-il remplacé ?",
        "l'écran de l'ascenseur n'affiche plus l'étage",
        "la cabine de l'ascenseur est sale et taguée",
        "l'ascenseur fait un bruit métallique",
        "la porte de l'ascenseur se rouvre plusieurs fois avant de partir",
    ],
    ("access_security", "urgent"): [
        "la porte de mon appartement a été forcée, je ne peux plus fermer à clé",
        "cambriolage cette nuit, la serrure est détruite et le logement reste ouvert",
        "ma porte d'entrée ne ferme plus du tout, impossible de verrouiller",
        "la porte palière a été défoncée par des voleurs",
        "la serrure de ma porte est bloquée ouverte, je ne peux pas fermer mon logement",
        "effraction chez moi, la fenêtre du rez-de-chaussée est cassée et on ne peut plus fermer",
        "la clé est cassée dans la serrure, la porte d'entrée reste ouverte",
        "des cambrioleurs ont fracturé la porte, je ne peux pas laisser le logement ouvert",
    ],
    ("access_security", "normal"): [
        "mon badge d'accès ne fonctionne plus",
        "l'interphone ne marche pas, je n'entends pas les visiteurs",
        "le digicode de la porte d'entrée est en panne",
        "la porte du hall ferme mal",
        "je voudrais un badge supplémentaire pour ma fille",
        "la serrure de ma porte d'entrée est dure",
        "la vitre de la porte du hall est cassée",
        "le portail du parking ne s'ouvre plus",
        "la porte de la cave ne ferme plus à clé",
        "la télécommande du garage ne marche plus",
        "le vigik ne fonctionne plus depuis le changement de serrure",
        "la porte du local poubelles n'a plus de serrure",
        "le carreau de la fenêtre du salon est cassé",
        "je n'ai pas reçu les clés de la boîte aux lettres et du local vélo",
        "le visiophone ne fonctionne plus",
        "la porte d'entrée de l'immeuble reste ouverte, la ventouse ne tient plus",
        "j'ai perdu mon badge, comment en avoir un nouveau ?",
        "la serrure de la porte du parking a été changée et je n'ai pas la clé",
        "le verrou de ma porte d'entrée coince",
        "l'interphone sonne dans le vide, la gâche de la porte ne s'ouvre pas",
    ],
    ("common_areas", "urgent"): [
        "il y a le feu dans le local poubelles",
        "de la fumée envahit la cage d'escalier, ça brûle au sous-sol",
        "incendie dans le local vélo, les flammes sont visibles",
    ],
    ("common_areas", "normal"): [
        "le local poubelles n'est pas nettoyé",
        "des encombrants sont abandonnés dans le hall",
        "la lumière de l'escalier est en panne",
        "les parties communes sont sales, le ménage n'est pas fait",
        "ma boîte aux lettres est cassée",
        "les couloirs sentent mauvais",
        "il y a des graffitis dans la cage d'escalier",
        "l'éclairage du parking est éteint",
        "la minuterie de l'entrée ne fonctionne plus",
        "des meubles traînent sur le trottoir devant la résidence depuis des jours",
        "les poubelles ne sont pas sorties, elles débordent",
        "l'entretien des espaces verts n'est pas fait",
        "le hall d'entrée n'a pas été nettoyé depuis deux semaines",
        "la serrure de ma boîte aux lettres est cassée",
        "les ampoules du palier sont grillées",
        "il y a des déchets dans le local vélo",
        "la cour de la résidence est pleine de détritus",
        "des sacs d'ordures sont entassés devant le local",
        "les escaliers n'ont pas été lavés",
        "il y a des crachats et de l'urine dans l'ascenseur et le hall",
        "le container des ordures est cassé",
        "les boîtes aux lettres ont été vandalisées",
        "il n'y a pas d'étiquette avec mon nom sur la boîte aux lettres",
        "la lumière du couloir de la cave ne s'allume plus",
    ],
    ("pests", "normal"): [
        "il y a des cafards dans la cuisine",
        "nous avons des punaises de lit dans les chambres",
        "des souris dans l'appartement",
        "des rats dans la cave et dans le local poubelles",
        "des blattes sortent des placards la nuit",
        "il faudrait une dératisation de l'immeuble",
        "un nid de frelons sur la façade au niveau de ma fenêtre",
        "des fourmis dans la cuisine et la salle de bain",
        "des pigeons s'installent sur le balcon",
        "on se fait piquer la nuit, je pense que ce sont des punaises",
        "des cafards remontent par les gaines",
        "quand passe la désinsectisation ?",
        "il y a des crottes de souris dans les placards",
        "un rat est entré dans l'appartement par le balcon",
        "invasion de moucherons et de blattes",
        "des guêpes font leur nid dans le coffre du volet",
        "il y a des puces dans la moquette",
        "les punaises de lit sont revenues après le traitement",
        "des rongeurs dans les faux plafonds",
        "des cafards dans tout le bâtiment",
    ],
    ("damp_ventilation", "normal"): [
        "il y a de la moisissure sur les murs de la chambre",
        "la VMC ne marche plus",
        "beaucoup de condensation sur les vitres",
        "des taches noires au plafond de la salle de bain",
        "la bouche d'aération est bouchée",
        "les murs sont humides et le papier peint se décolle",
        "odeur de moisi dans tout le logement",
        "le moteur de la ventilation est bruyant",
        "infiltration d'eau par le toit quand il pleut",
        "humidité importante dans la chambre des enfants",
        "il y a des champignons sur le mur de la salle de bain",
        "salpêtre sur les murs de la cave et du rez-de-chaussée",
        "la ventilation mécanique n'aspire plus",
        "de la buée sur les fenêtres tous les matins",
        "les entrées d'air des fenêtres sont bouchées",
        "le plafond est moisi au-dessus de la douche",
        "traces d'humidité et auréoles sur le mur",
        "mauvaise ventilation, l'air est humide dans l'appartement",
        "ruissellement d'eau de condensation sur les murs",
        "les vêtements sentent le moisi dans les placards",
    ],
    ("neighbour_disturbance", "normal"): [
        "mon voisin fait du bruit tous les soirs",
        "musique très forte chez les voisins la nuit",
        "le voisin du dessus crie et tape",
        "les chiens du voisin aboient sans arrêt",
        "des jeunes squattent le hall et font du bruit",
        "tapage nocturne chez le voisin",
        "mes voisins font des fêtes tous les week-ends",
        "mon voisin m'insulte et m'intimide",
        "le voisin jette des déchets depuis son balcon",
        "des nuisances sonores permanentes au-dessus de chez moi",
        "le voisin fait des travaux avec une perceuse tard le soir",
        "odeurs de cigarette et de cannabis venant des voisins",
        "le voisin encombre le palier avec ses affaires",
        "conflit avec ma voisine qui fait du bruit à toute heure",
        "les voisins claquent les portes en pleine nuit",
        "des squatteurs dans les caves font du bruit",
        "le voisin se gare sur ma place de parking",
        "les enfants des voisins courent et sautent jusqu'à minuit",
        "trafic de stupéfiants dans l'entrée de l'immeuble",
        "le voisin laisse son chat faire ses besoins sur mon paillasson",
    ],
    ("rent_charges", "normal"): [
        "je ne comprends pas le montant de ma régularisation de charges",
        "mon loyer a été prélevé deux fois",
        "je voudrais un échéancier pour payer mes dettes de loyer",
        "mon APL n'a pas été déduite ce mois-ci",
        "pourquoi mon loyer a augmenté ?",
        "je voudrais modifier la date de mon prélèvement",
        "je n'arrive pas à payer mon loyer ce mois-ci",
        "je n'ai pas reçu mon avis d'échéance",
        "comment payer mon loyer en ligne ?",
        "les charges sont trop élevées",
        "quand serai-je remboursé de mon dépôt de garantie ?",
        "ma caf ne verse plus l'aide au logement",
        "je conteste les frais de retard facturés",
        "je voudrais le décompte détaillé des charges",
        "j'ai un impayé de loyer, comment régulariser ?",
        "le virement de mon loyer a été rejeté par la banque",
        "je voudrais payer par prélèvement automatique",
        "erreur sur mon solde, j'ai payé le loyer",
        "le supplément de loyer est trop élevé",
        "mon allocation logement a changé, mon loyer aussi ?",
        "je voudrais un remboursement du trop-perçu de charges",
        "la provision de charges a augmenté",
        "combien reste-t-il à payer sur mon compte ?",
        "je suis en retard de paiement pour deux mois de loyer",
    ],
    ("administrative", "normal"): [
        "je veux donner mon préavis, je déménage",
        "j'ai besoin d'une attestation de domicile",
        "je vous envoie mon attestation d'assurance habitation",
        "je souhaite ajouter mon conjoint sur le bail",
        "je voudrais demander une mutation dans un autre logement",
        "je voudrais changer de logement, le mien est trop petit",
        "pouvez-vous m'envoyer une copie du bail ?",
        "je voudrais prendre rendez-vous pour l'état des lieux",
        "changement de situation familiale, naissance d'un enfant",
        "mon conjoint est parti, je veux être seule titulaire du bail",
        "je change d'adresse mail et de téléphone",
        "je souhaite résilier mon bail",
        "où envoyer l'enquête sur les ressources ?",
        "je n'arrive pas à me connecter à mon espace locataire",
        "je voudrais un échange de logement",
        "mon mari est décédé, je veux reprendre le bail",
        "je voudrais une attestation pour la CAF",
        "voici le certificat d'assurance de cette année",
        "demande de logement adapté à mon handicap",
        "quel est le délai de préavis pour quitter le logement ?",
        "je voudrais transmettre mon nouveau RIB",
        "mise à jour de mon dossier suite à mon mariage",
        "je n'ai pas encore reçu mon contrat de location signé",
        "demande de transfert de bail à mon fils",
    ],
    ("other", "urgent"): [
        "le balcon menace de s'effondrer, des morceaux de béton tombent",
        "une partie du faux plafond est tombée dans la cuisine",
        "le garde-corps de la fenêtre est arraché, risque de chute pour les enfants",
        "un arbre est tombé sur le bâtiment et a cassé la toiture",
        "la façade s'effrite et des pierres tombent sur le passage",
    ],
    ("other", "normal"): [
        "le volet roulant est cassé",
        "le parquet est abîmé",
        "une fissure sur le mur du séjour",
        "je voudrais installer une antenne parabolique",
        "la porte du placard est cassée",
        "le carrelage de la salle de bain se décolle",
        "la prise télé ne marche plus",
        "peut-on changer la moquette ?",
        "je voudrais refaire la peinture du salon",
        "le plan de travail de la cuisine est abîmé",
        "quand arrive la fibre dans la résidence ?",
        "la manivelle du volet est cassée",
        "le store du balcon est déchiré",
        "merci pour votre intervention",
        "l'entreprise n'est pas venue au rendez-vous",
        "le sol de la cuisine se soulève",
        "je voudrais savoir si je peux avoir un animal",
        "les travaux de rénovation commencent quand ?",
        "la porte de la salle de bain frotte par terre",
        "le meuble sous évier est pourri",
        "je voudrais poser une étagère, ai-je le droit ?",
        "les volets ne descendent plus",
        "question sur le ravalement de la façade",
        "la hotte de la cuisine fournie avec le logement ne fonctionne plus",
    ],
}

OPENERS = [
    "",
    "",
    "",
    "Bonjour,",
    "Bonjour",
    "Bonsoir,",
    "Madame, Monsieur,",
    "Bjr",
    "slt",
    "Bonjour madame,",
    "Bonjour, je vous contacte car",
    "Je vous écris parce que",
    "Bonjour, locataire au 4e,",
    "Bonjour monsieur,",
    "Salut,",
    "Allo,",
    "Bonjour, je me permets de vous signaler que",
]
CONTEXTS = [
    "",
    "",
    "",
    "depuis hier.",
    "depuis ce matin.",
    "depuis 3 jours.",
    "depuis une semaine.",
    "ça fait deux semaines.",
    "j'ai déjà appelé deux fois.",
    "c'est la deuxième fois ce mois-ci.",
    "Bâtiment B, porte 12.",
    "Résidence Les Tilleuls, appartement 34.",
    "au 3e étage.",
    "j'habite au 5 allée des Peupliers.",
    "depuis le week-end.",
    "depuis notre arrivée.",
]
CLOSERS = [
    "",
    "",
    "",
    "Merci.",
    "Merci de faire le nécessaire.",
    "Cordialement.",
    "merci d'avance",
    "svp",
    "Pouvez-vous envoyer quelqu'un ?",
    "Merci de me rappeler.",
    "Bien à vous.",
    "merci de faire vite",
    "Dans l'attente de votre retour.",
    "Que dois-je faire ?",
]
SMS = {
    "il y a": "ya",
    "problème": "pb",
    "s'il vous plaît": "svp",
    "beaucoup": "bcp",
    "toujours": "tjs",
    "dans": "ds",
    "pour": "pr",
    "quand": "qd",
    "c'est": "c",
    "je suis": "jsuis",
    "aujourd'hui": "ajd",
    "rendez-vous": "rdv",
    "appartement": "appart",
    "je ne sais pas": "jsp",
    "quelque": "kelke",
    "qui": "ki",
    "que": "ke",
    "tout": "tt",
    "plus": "plu",
    "depuis": "dpuis",
    "avec": "avc",
    "bonjour": "bjr",
    "merci": "mrc",
    "d'accord": "dac",
    "j'ai": "jai",
    "ça": "sa",
    "pas": "pa",
}


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1 :]
    if kind < 0.7:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i] + word[i:]


def _degrade(text: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        lowered = text.lower()
        for long, short in SMS.items():
            if rng.random() < 0.6:
                lowered = lowered.replace(long, short)
        text = lowered
    if rng.random() < 0.35:
        text = _strip_accents(text)
    if rng.random() < 0.3:
        words = text.split()
        for _ in range(rng.randint(1, 2)):
            k = rng.randrange(len(words))
            words[k] = _typo(words[k], rng)
        text = " ".join(words)
    if rng.random() < 0.2:
        text = text.lower().replace(",", "").replace(".", "").replace("'", " ")
    if rng.random() < 0.04:
        text = text.upper()
    return text


def _compose(core: str, rng: random.Random) -> str:
    opener, context, closer = rng.choice(OPENERS), rng.choice(CONTEXTS), rng.choice(CLOSERS)
    body = core
    if opener.endswith(("car", "que", "parce que")):
        body = f"{opener} {core}"
    elif opener:
        body = f"{opener} {core[0].upper()}{core[1:]}"
    else:
        body = core[0].upper() + core[1:]
    parts = [body + ("," if context and rng.random() < 0.5 else ""), context, closer]
    return " ".join(p for p in parts if p).strip()


def build(seed: int = SEED) -> list[dict[str, str]]:
    """Return the training items, deterministic by ``seed``."""
    rng = random.Random(seed)
    items: list[dict[str, str]] = []
    seen: set[str] = set()
    for (category, urgency), cores in CORES.items():
        for core in cores:
            variants = [core] + [_degrade(_compose(core, rng), rng) for _ in range(VARIANTS_PER_CORE * 3)]
            kept = 0
            for text in variants:
                if text in seen or kept > VARIANTS_PER_CORE:
                    continue
                seen.add(text)
                kept += 1
                items.append({"text": text, "category": category, "urgency": urgency})
    rng.shuffle(items)
    for n, item in enumerate(items, 1):
        item["id"] = f"tr-{n:05d}"
    return [
        {"id": i["id"], "text": i["text"], "category": i["category"], "urgency": i["urgency"]} for i in items
    ]


def main() -> None:
    """Write ``data/train.jsonl``."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    items = build()
    with TRAIN_PATH.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(items)} training items → {TRAIN_PATH}")


if __name__ == "__main__":
    main()
