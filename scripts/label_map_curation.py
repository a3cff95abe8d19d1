"""The hand-curated part of the label map: which WordNet concepts become common label names.

ImageNet classes are WordNet synsets, usually very specific ("Alaskan malamute"). Rekognition
answers with the specific name *and* the everyday names above it ("Dog", "Mammal", "Animal").
Every synset listed here is such an everyday name; the generator walks each class's WordNet
hypernyms and keeps, as parents, the ones found below. Edit this file, then rerun
`python scripts/build_label_map.py` to regenerate autotagger/labeler/label_map.json.

Each entry: label name -> (WordNet lemma, sense number, category or None, extra parents, aliases).
A category of None inherits the nearest parent's. Extra parents add what WordNet does not say
(a dog is a pet; a vehicle is transportation).
"""

ROLLUPS: dict[str, tuple[str, int, str | None, tuple[str, ...], tuple[str, ...]]] = {
    # people
    "Person": ("person", 1, "Person Description", (), ("Human",)),
    # animals
    "Animal": ("animal", 1, "Animals and Pets", (), ()),
    "Mammal": ("mammal", 1, None, (), ()),
    "Canine": ("canine", 2, None, (), ()),
    "Dog": ("dog", 1, None, ("Pet",), ()),
    "Wolf": ("wolf", 1, None, ("Wildlife",), ()),
    "Fox": ("fox", 1, None, ("Wildlife",), ()),
    "Cat": ("domestic_cat", 1, None, ("Pet",), ("Kitty",)),
    "Big Cat": ("big_cat", 1, None, ("Wildlife",), ()),
    "Bear": ("bear", 1, None, ("Wildlife",), ()),
    "Primate": ("primate", 2, None, (), ()),
    "Monkey": ("monkey", 1, None, ("Wildlife",), ()),
    "Ape": ("ape", 1, None, ("Wildlife",), ()),
    "Horse": ("horse", 1, None, (), ()),
    "Zebra": ("zebra", 1, None, ("Wildlife",), ()),
    "Cow": ("cattle", 1, None, ("Livestock",), ("Cattle",)),
    "Sheep": ("sheep", 1, None, ("Livestock",), ()),
    "Pig": ("swine", 1, None, (), ("Hog",)),
    "Elephant": ("elephant", 1, None, ("Wildlife",), ()),
    "Giraffe": ("giraffe", 1, None, ("Wildlife",), ()),
    "Rodent": ("rodent", 1, None, (), ()),
    "Rabbit": ("rabbit", 1, None, (), ("Bunny",)),
    "Bird": ("bird", 1, None, (), ()),
    "Fish": ("fish", 1, None, ("Sea Life",), ()),
    "Shark": ("shark", 1, None, ("Sea Life",), ()),
    "Reptile": ("reptile", 1, None, (), ()),
    "Snake": ("snake", 1, None, (), ()),
    "Lizard": ("lizard", 1, None, (), ()),
    "Turtle": ("turtle", 2, None, (), ()),
    "Amphibian": ("amphibian", 3, None, (), ()),
    "Frog": ("frog", 1, None, (), ()),
    "Insect": ("insect", 1, None, (), ()),
    "Butterfly": ("butterfly", 1, None, (), ()),
    "Spider": ("spider", 1, None, (), ()),
    "Crustacean": ("crustacean", 1, None, ("Sea Life",), ()),
    # vehicles
    "Vehicle": ("vehicle", 1, "Vehicles and Automotive", ("Transportation",), ()),
    "Car": ("car", 1, None, (), ("Automobile",)),
    "Truck": ("truck", 1, None, (), ()),
    "Bus": ("bus", 1, None, ("Vehicle",), ()),  # WordNet: public transport, not a vehicle
    "Motorcycle": ("motorcycle", 1, None, (), ("Motorbike",)),
    "Bicycle": ("bicycle", 1, None, (), ("Bike",)),
    "Train": ("train", 1, None, ("Vehicle",), ()),  # WordNet: public transport, not a vehicle
    "Boat": ("boat", 1, None, (), ()),
    "Ship": ("ship", 1, None, (), ()),
    "Watercraft": ("vessel", 2, None, (), ()),
    "Aircraft": ("aircraft", 1, None, (), ()),
    "Airplane": ("airplane", 1, None, (), ("Aeroplane",)),
    "Rocket": ("rocket", 1, None, (), ()),
    "Spacecraft": ("spacecraft", 1, None, (), ()),
    # food
    "Food": ("food", 2, "Food and Beverage", (), ()),
    "Beverage": ("beverage", 1, "Food and Beverage", (), ("Drink",)),
    "Coffee": ("coffee", 1, None, (), ()),
    "Fruit": ("edible_fruit", 1, None, (), ()),
    "Vegetable": ("vegetable", 1, None, (), ()),
    "Dessert": ("dessert", 1, None, ("Food",), ()),  # WordNet: a course (nutriment), not food.2
    "Bread": ("bread", 1, None, (), ()),
    "Dish": ("dish", 2, None, ("Food",), ("Meal",)),  # likewise
    # things
    "Cup": ("cup", 1, "Kitchen and Dining", (), ()),
    "Tableware": ("tableware", 1, "Kitchen and Dining", (), ()),
    "Furniture": ("furniture", 1, "Furniture and Furnishings", (), ()),
    "Chair": ("chair", 1, None, (), ()),
    "Table": ("table", 2, None, (), ()),
    "Architecture": ("structure", 1, "Buildings and Architecture", (), ()),
    "Building": ("building", 1, "Buildings and Architecture", (), ()),
    "House": ("house", 1, None, (), ()),
    "Bridge": ("bridge", 1, "Buildings and Architecture", (), ()),
    "Clothing": ("clothing", 1, "Apparel and Accessories", (), ("Apparel",)),
    "Hat": ("hat", 1, None, (), ()),
    "Footwear": ("footwear", 2, "Apparel and Accessories", (), ("Shoe",)),
    "Musical Instrument": ("musical_instrument", 1, "Hobbies and Interests", (), ()),
    "Weapon": ("weapon", 1, "Weapons and Military", (), ()),
    "Tool": ("tool", 1, "Tools and Machinery", (), ()),
    "Machine": ("machine", 1, "Tools and Machinery", (), ()),
    "Electronics": ("electronic_equipment", 1, "Technology and Computing", (), ()),
    "Computer": ("computer", 1, "Technology and Computing", (), ()),
    "Phone": ("telephone", 1, "Technology and Computing", (), ("Telephone",)),
    "Camera": ("camera", 1, "Technology and Computing", (), ()),
    "Appliance": ("home_appliance", 1, "Home and Indoors", (), ()),
    "Ball": ("ball", 1, "Sports", (), ()),
    "Sports Equipment": ("sports_equipment", 1, "Sports", (), ()),
    "Toy": ("toy", 1, "Hobbies and Interests", (), ()),
    "Plant": ("plant", 2, "Plants and Flowers", (), ()),
    "Flower": ("flower", 1, None, (), ("Blossom",)),
    "Tree": ("tree", 1, None, (), ()),
    # Rekognition files fungi under Plant (WordNet does not): a photo the classifier spreads over
    # agaric, bolete, earthstar... is still a Fungus and a Plant
    "Fungus": ("fungus", 1, "Plants and Flowers", ("Plant",), ()),
    "Mushroom": ("mushroom", 2, "Plants and Flowers", (), ()),
    "Nature": ("geological_formation", 1, "Nature and Outdoors", ("Outdoors",), ()),
    "Mountain": ("mountain", 1, None, (), ()),
    "Shoreline": ("shore", 1, None, (), ()),
    "Bottle": ("bottle", 1, None, (), ()),
    "Bag": ("bag", 1, None, (), ()),
    # Rekognition names these everyday containers and writing tools; without them a fountain pen or
    # a carton was a top-level label of its own, with no everyday name above it
    "Pen": ("pen", 1, None, (), ()),
    "Box": ("box", 1, None, (), ()),
}

# Labels that are parents only through `extra parents` above: their own category and parents.
EXTRA_NODES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Pet": ("Animals and Pets", ("Animal",)),
    "Wildlife": ("Animals and Pets", ("Animal",)),
    "Livestock": ("Animals and Pets", ("Animal",)),
    "Transportation": ("Vehicles and Automotive", ()),
    "Outdoors": ("Nature and Outdoors", ()),
    # Rekognition's Sea Life is the sea's animals; WordNet's "invertebrate" (the old roll-up) also
    # made every insect Sea Life. Reached through EXTRA_SYNSETS and the fish/crustacean roll-ups.
    "Sea Life": ("Animals and Pets", ("Animal",)),
    # scene and document concepts, implied by ImageNet classes through IMPLIED below
    "Water": ("Nature and Outdoors", ()),
    "Sea": ("Nature and Outdoors", ("Water", "Nature", "Outdoors")),
    "Beach": ("Nature and Outdoors", ("Shoreline", "Sea", "Water", "Nature", "Outdoors")),
    "Lake": ("Nature and Outdoors", ("Water", "Nature", "Outdoors")),
    "Landscape": ("Nature and Outdoors", ("Nature", "Outdoors")),
    "Indoors": ("Home and Indoors", ()),
    "Text": ("Text and Documents", ()),
    "Sign": ("Text and Documents", ("Text",)),
    "Locomotive": ("Vehicles and Automotive", ("Train", "Vehicle", "Transportation")),
}

# More WordNet synsets that roll up to a label defined above: everything below them gets it.
EXTRA_SYNSETS: dict[str, tuple[tuple[str, int], ...]] = {
    # the sea's invertebrates: jellyfish, anemones and corals, starfish and urchins, nautilus, chitons
    "Sea Life": (("coelenterate", 1), ("echinoderm", 1), ("cephalopod", 1), ("chiton", 2), ("sea_slug", 1),
                  ("conch", 1)),
    # fruits, seeds, ears and flower heads are parts of plants (Rekognition: Fruit -> Plant, Food);
    # without this an acorn or rapeseed had no parent at all
    "Plant": (("plant_part", 1),),
    "Locomotive": (("locomotive", 1),),
    # food.2 is solid food; sauces, dips and dough (foodstuff) and a main course (a plate of food)
    # sit beside it in WordNet and had no parent at all
    "Food": (("foodstuff", 2), ("main_course", 1)),
    "Train": (("passenger_car", 1), ("freight_car", 1)),  # railway cars: parts of trains
}

# Detector classes that are also everyday names for ImageNet classes below them (a wall clock is a
# Clock). Not every COCO class: "stop sign" is WordNet's sign.2, which every street sign is under,
# and "oven" is above ImageNet's Dutch oven, a pot.
COCO_ROLLUPS: tuple[str, ...] = ("Clock", "Bench", "Umbrella", "Vase", "Laptop", "Bed", "Couch", "Toilet",
                                 "Refrigerator", "Microwave", "Toaster", "Sink", "Backpack")

# ImageNet classes (by WordNet synset, with everything below it) that show a scene or a material
# more than a thing: the seashore is also Sea, Beach and Water. Rekognition lists such concepts as
# parents too (Beach: Coast, Sea, Shoreline, Water, Nature, Outdoors).
IMPLIED: dict[tuple[str, int], tuple[str, ...]] = {
    ("seashore", 1): ("Beach",),
    # views of the land itself (not the coral reef under water): a landscape photo
    ("mountain", 1): ("Landscape",),  # alp, volcano
    ("valley", 1): ("Landscape",),
    ("cliff", 1): ("Landscape",),
    ("promontory", 1): ("Sea", "Landscape"),  # WordNet: "juts out into the sea"
    ("shore", 1): ("Landscape",),  # seashore, lakeside
    ("geyser", 1): ("Water", "Landscape"),
    ("sandbar", 1): ("Beach", "Landscape"),
    ("lakeshore", 1): ("Lake",),
    ("coral_reef", 1): ("Sea",),
    ("breakwater", 1): ("Sea",),
    ("dam", 1): ("Water",),
    ("fountain", 1): ("Water",),
    ("boathouse", 1): ("Water",),
    ("street_sign", 1): ("Sign",),
    ("book_jacket", 1): ("Text",),
    ("menu", 2): ("Text",),  # ImageNet's menu is the dishes sense; its pictures are printed menus
    ("web_site", 1): ("Text",),
    ("crossword_puzzle", 1): ("Text",),
    ("scoreboard", 1): ("Text",),
    # shops, a restaurant, a library, a home theatre: ImageNet's pictures of them are interiors
    ("mercantile_establishment", 1): ("Indoors",),
    # structures ImageNet shows from outside (bridges, fences, monuments, roofs, castles, churches,
    # barns): the photo is taken outdoors. Not every building: shops and libraries are interiors.
    ("bridge", 1): ("Outdoors",),
    ("fence", 1): ("Outdoors",),
    ("memorial", 3): ("Outdoors",),  # triumphal arch, megalith
    ("obelisk", 1): ("Outdoors",),
    ("castle", 2): ("Outdoors",),
    ("palace", 4): ("Outdoors",),
    ("monastery", 1): ("Outdoors",),
    ("place_of_worship", 1): ("Outdoors",),  # church, mosque, stupa
    ("barn", 1): ("Outdoors",),
    ("water_tower", 1): ("Architecture", "Outdoors"),
    # tile roofs and thatch: WordNet's roof is a covering, not a structure; it tops a building
    ("roof", 1): ("Building", "Architecture", "Outdoors"),
    ("bell_cote", 1): ("Building", "Architecture", "Outdoors"),  # WordNet: a shelter; it sits on a roof
    # ImageNet's cardoon (the vegetable's wnid) pictures the plant's purple flower heads
    ("cardoon", 2): ("Flower", "Plant"),
    # ImageNet's flowerpot pictures are pots with plants growing in them
    ("pot", 4): ("Potted Plant", "Plant"),
    ("comic_book", 1): ("Text",),  # pages of speech balloons and captions
    ("restaurant", 1): ("Indoors",),
    ("library", 5): ("Indoors",),
    ("home_theater", 1): ("Indoors",),
}

# COCO class (as named in @vladmandic/human's src/object/labels.ts) -> (label, WordNet lemma, sense).
COCO: dict[str, tuple[str, str, int]] = {
    "person": ("Person", "person", 1), "bicycle": ("Bicycle", "bicycle", 1), "car": ("Car", "car", 1),
    "motorcycle": ("Motorcycle", "motorcycle", 1), "airplane": ("Airplane", "airplane", 1),
    "bus": ("Bus", "bus", 1), "train": ("Train", "train", 1), "truck": ("Truck", "truck", 1),
    "boat": ("Boat", "boat", 1), "traffic light": ("Traffic Light", "traffic_light", 1),
    "fire hydrant": ("Fire Hydrant", "fireplug", 1), "stop sign": ("Stop Sign", "sign", 2),
    "parking meter": ("Parking Meter", "parking_meter", 1), "bench": ("Bench", "bench", 1),
    "bird": ("Bird", "bird", 1), "cat": ("Cat", "domestic_cat", 1), "dog": ("Dog", "dog", 1),
    "horse": ("Horse", "horse", 1), "sheep": ("Sheep", "sheep", 1), "cow": ("Cow", "cattle", 1),
    "elephant": ("Elephant", "elephant", 1), "bear": ("Bear", "bear", 1), "zebra": ("Zebra", "zebra", 1),
    "giraffe": ("Giraffe", "giraffe", 1), "backpack": ("Backpack", "backpack", 1),
    "umbrella": ("Umbrella", "umbrella", 1), "handbag": ("Handbag", "bag", 4), "tie": ("Tie", "necktie", 1),
    "suitcase": ("Suitcase", "bag", 6), "frisbee": ("Frisbee", "frisbee", 1), "skis": ("Ski", "ski", 1),
    "snowboard": ("Snowboard", "snowboard", 1), "sports ball": ("Ball", "ball", 1),
    "kite": ("Kite", "kite", 3), "baseball bat": ("Baseball Bat", "baseball_bat", 1),
    "baseball glove": ("Baseball Glove", "baseball_glove", 1), "skateboard": ("Skateboard", "skateboard", 1),
    "surfboard": ("Surfboard", "surfboard", 1), "tennis racket": ("Tennis Racket", "tennis_racket", 1),
    "bottle": ("Bottle", "bottle", 1), "wine glass": ("Wine Glass", "wineglass", 1), "cup": ("Cup", "cup", 1),
    "fork": ("Fork", "fork", 1), "knife": ("Knife", "knife", 1), "spoon": ("Spoon", "spoon", 1),
    "bowl": ("Bowl", "bowl", 3), "banana": ("Banana", "banana", 2), "apple": ("Apple", "apple", 1),
    "sandwich": ("Sandwich", "sandwich", 1), "orange": ("Orange", "orange", 1),
    "broccoli": ("Broccoli", "broccoli", 2), "carrot": ("Carrot", "carrot", 3),
    "hot dog": ("Hot Dog", "hotdog", 2), "pizza": ("Pizza", "pizza", 1), "donut": ("Donut", "doughnut", 2),
    "cake": ("Cake", "cake", 3), "chair": ("Chair", "chair", 1), "couch": ("Couch", "sofa", 1),
    "potted plant": ("Potted Plant", "pot_plant", 1), "bed": ("Bed", "bed", 1),
    "dining table": ("Dining Table", "dining_table", 1), "toilet": ("Toilet", "toilet", 2),
    "tv": ("TV", "television_receiver", 1), "laptop": ("Laptop", "laptop", 1),
    "mouse": ("Computer Mouse", "mouse", 4), "remote": ("Remote Control", "remote_control", 1),
    "keyboard": ("Computer Keyboard", "computer_keyboard", 1), "cell phone": ("Mobile Phone", "cellular_telephone", 1),
    "microwave": ("Microwave", "microwave", 2), "oven": ("Oven", "oven", 1), "toaster": ("Toaster", "toaster", 2),
    "sink": ("Sink", "sink", 1), "refrigerator": ("Refrigerator", "electric_refrigerator", 1),
    "book": ("Book", "book", 2), "clock": ("Clock", "clock", 1), "vase": ("Vase", "vase", 1),
    "scissors": ("Scissors", "scissors", 1), "teddy bear": ("Teddy Bear", "teddy", 1),
    "hair drier": ("Hair Dryer", "hand_blower", 1), "toothbrush": ("Toothbrush", "toothbrush", 1),
}

# ImageNet classes whose wnid names a different sense than the pictures show.
IMAGENET_SYNSET_FIXES: dict[str, tuple[str, int]] = {
    "n07930864": ("cup", 1),  # ImageNet's "cup" pictures are cups; its wnid is the drink
    "n04008634": ("rocket", 1),  # "projectile, missile": pictures of rockets in flight or on pads, not shells
}
