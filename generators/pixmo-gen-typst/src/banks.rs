//! Word banks: names, places, organisations, items. Combined procedurally so that thousands of
//! documents rarely repeat.

use pixmo_core::Rng;

pub const FIRST_NAMES: &[&str] = &[
    "Amara", "Ben", "Carmen", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Keisha", "Liam", "Mei", "Nikolai", "Olivia", "Priya", "Quentin", "Rosa", "Samuel", "Tara",
    "Umar", "Valeria", "Wen", "Ximena", "Yusuf", "Zoe", "Aiden", "Beatriz", "Chidi", "Daniela",
    "Emeka", "Freya", "Gabriel", "Hana", "Ivan", "Julia", "Kofi", "Lucia", "Mateo", "Nadia",
    "Oscar", "Paloma", "Rafael", "Sofia", "Tomas", "Uma", "Victor", "Willa", "Arjun", "Bianca",
];

pub const LAST_NAMES: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Alvarez",
    "Kowalski",
    "Haddad",
    "Nguyen",
    "O'Brien",
    "Schmidt",
    "Patel",
    "Rossi",
    "Mensah",
    "Ivanova",
    "Fischer",
    "Costa",
    "Yamamoto",
    "Dubois",
    "Novak",
    "Santos",
    "Kim",
    "Larsen",
    "Baptiste",
    "Mahmoud",
    "Walsh",
    "Herrera",
    "Brennan",
    "Sato",
    "Adeyemi",
    "Bergstrom",
    "Castillo",
    "Dimitrov",
    "Eriksen",
    "Ferreira",
    "Gallagher",
    "Holm",
    "Iqbal",
    "Jovanovic",
    "Kaplan",
    "Lopez",
    "Murphy",
    "Nakamura",
];

pub const CITIES: &[&str] = &[
    "Portland",
    "Austin",
    "Denver",
    "Leeds",
    "Lyon",
    "Porto",
    "Graz",
    "Utrecht",
    "Aarhus",
    "Kraków",
    "Valencia",
    "Turin",
    "Halifax",
    "Adelaide",
    "Dunedin",
    "Cork",
    "Bergen",
    "Malmö",
    "Ghent",
    "Bilbao",
    "Madison",
    "Boise",
    "Savannah",
    "Tucson",
    "Quebec City",
    "Hobart",
];

pub const STREETS: &[&str] = &[
    "Maple Avenue",
    "Harbor Street",
    "Elm Road",
    "Station Lane",
    "Mill Street",
    "Oak Terrace",
    "King's Road",
    "Riverside Drive",
    "Chestnut Way",
    "Market Square",
    "Cedar Court",
    "Hill Road",
];

const COMPANY_A: &[&str] = &[
    "Blue Heron",
    "Northwind",
    "Copperleaf",
    "Silverline",
    "Granite",
    "Brightwater",
    "Redwood",
    "Summit",
    "Lakeshore",
    "Ironbridge",
    "Willow",
    "Crescent",
    "Harborview",
    "Pinecrest",
    "Meridian",
    "Foxglove",
    "Starling",
    "Oakmont",
];
const COMPANY_B: &[&str] = &[
    "Supply Co.",
    "Consulting",
    "Design Studio",
    "Logistics",
    "Printing",
    "Analytics",
    "Labs",
    "Builders",
    "Catering",
    "Media",
    "Outfitters",
    "Engineering",
    "Press",
    "Partners",
];

pub fn person(rng: &mut Rng) -> String {
    format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES))
}

pub fn company(rng: &mut Rng) -> String {
    format!("{} {}", pick(rng, COMPANY_A), pick(rng, COMPANY_B))
}

pub fn address(rng: &mut Rng) -> String {
    format!(
        "{} {}, {}",
        rng.range_u32(2, 990),
        pick(rng, STREETS),
        pick(rng, CITIES)
    )
}

pub fn phone(rng: &mut Rng) -> String {
    format!(
        "({}) {}-{:04}",
        rng.range_u32(201, 989),
        rng.range_u32(200, 999),
        rng.range_u32(0, 10000)
    )
}

pub fn email(rng: &mut Rng, name: &str, domain_from: &str) -> String {
    let user: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphabetic() || *c == ' ')
        .collect::<String>()
        .replace(' ', ".");
    let domain: String = domain_from
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(14)
        .collect();
    let tld = pick(rng, &["com", "org", "net", "io", "co"]);
    format!("{user}@{domain}.{tld}")
}

pub const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub fn date(rng: &mut Rng) -> String {
    format!(
        "{} {}, {}",
        pick(rng, MONTHS),
        rng.range_u32(1, 29),
        rng.range_u32(2019, 2027)
    )
}

/// Personas: a role and a motivation, combined.
const PERSONA_ROLES: &[&str] = &[
    "A small-business owner",
    "A hospital administrator",
    "A secondary-school teacher",
    "A freelance graphic designer",
    "A city planner",
    "A restaurant manager",
    "A nonprofit volunteer coordinator",
    "A university registrar",
    "A logistics analyst",
    "A community librarian",
    "A sports club treasurer",
    "A museum curator",
    "An HR generalist",
    "An environmental consultant",
    "A wedding planner",
    "A startup founder",
    "A pharmacy technician",
    "A retired accountant",
];
const PERSONA_GOALS: &[&str] = &[
    "who keeps meticulous records",
    "preparing for an annual review",
    "who needs clear paperwork for clients",
    "organising a busy season",
    "tracking a tight budget",
    "who wants to share updates with a local community",
    "comparing suppliers",
    "planning next quarter",
    "reporting to a board of directors",
    "who loves tidy spreadsheets",
];

pub fn persona(rng: &mut Rng) -> String {
    format!("{} {}", pick(rng, PERSONA_ROLES), pick(rng, PERSONA_GOALS))
}

pub fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    rng.choose(items).copied().unwrap_or("")
}

/// `k` distinct items (fewer if the bank is smaller).
pub fn pick_distinct<'a>(rng: &mut Rng, items: &[&'a str], k: usize) -> Vec<&'a str> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    crate::qa::shuffle(rng, &mut idx);
    idx.into_iter().take(k).map(|i| items[i]).collect()
}

/// Distinct people's names.
pub fn people(rng: &mut Rng, k: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    while out.len() < k {
        let p = person(rng);
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// `(item, low price cents, high price cents)` per product domain.
pub const PRODUCT_DOMAINS: &[(&str, &[&str], i64, i64)] = &[
    (
        "office supplies",
        &[
            "Copy paper (ream)",
            "Ballpoint pens (box)",
            "Stapler",
            "Toner cartridge",
            "Sticky notes",
            "Desk organiser",
            "File folders (25)",
            "Whiteboard markers",
            "Label tape",
            "Binder clips",
        ],
        199,
        8999,
    ),
    (
        "consulting services",
        &[
            "Strategy workshop",
            "Market analysis",
            "Site visit",
            "Data audit",
            "Training session",
            "Project management",
            "Report writing",
            "Follow-up call",
        ],
        15000,
        240000,
    ),
    (
        "printing",
        &[
            "Business cards (500)",
            "Flyers A5 (1000)",
            "Posters A2",
            "Brochures (250)",
            "Banner 2 m",
            "Letterheads (500)",
            "Envelopes (500)",
            "Stickers (200)",
        ],
        2500,
        45000,
    ),
    (
        "catering",
        &[
            "Coffee service",
            "Sandwich platter",
            "Fruit bowl",
            "Vegetarian lunch",
            "Pastry tray",
            "Sparkling water (case)",
            "Dessert selection",
            "Staff service hour",
        ],
        1500,
        32000,
    ),
    (
        "web development",
        &[
            "Landing page design",
            "CMS setup",
            "Hosting (12 months)",
            "SEO review",
            "Domain renewal",
            "Accessibility audit",
            "Bug fixes (hourly)",
            "Analytics setup",
        ],
        1200,
        180000,
    ),
    (
        "hardware",
        &[
            "Cordless drill",
            "Wood screws (200)",
            "Measuring tape",
            "Paint roller set",
            "Safety goggles",
            "Extension cord",
            "Sandpaper pack",
            "LED work light",
        ],
        350,
        15999,
    ),
];

pub const GROCERIES: &[&str] = &[
    "Whole milk",
    "Sourdough bread",
    "Free-range eggs",
    "Cheddar cheese",
    "Bananas",
    "Olive oil",
    "Greek yogurt",
    "Basmati rice",
    "Tomatoes",
    "Chicken breast",
    "Ground coffee",
    "Spinach",
    "Orange juice",
    "Pasta",
    "Butter",
    "Apples",
    "Dark chocolate",
    "Oat cereal",
    "Honey",
    "Avocados",
];

pub const STORES: &[&str] = &[
    "Corner Market",
    "Fresh Basket",
    "Green Grocer",
    "Daily Harvest",
    "Sunrise Foods",
    "City Pantry",
    "Valley Co-op",
    "Urban Mart",
];

pub const DISH_SECTIONS: &[(&str, &[&str])] = &[
    (
        "Starters",
        &[
            "Tomato bruschetta",
            "Crispy calamari",
            "Roasted beet salad",
            "French onion soup",
            "Garlic prawns",
            "Hummus plate",
            "Caesar salad",
            "Stuffed mushrooms",
        ],
    ),
    (
        "Mains",
        &[
            "Grilled salmon",
            "Mushroom risotto",
            "Beef bourguignon",
            "Chicken tikka masala",
            "Lamb shank",
            "Vegetable lasagna",
            "Pan-seared duck",
            "Fish and chips",
            "Margherita pizza",
            "Pad thai",
        ],
    ),
    (
        "Desserts",
        &[
            "Chocolate fondant",
            "Lemon tart",
            "Tiramisu",
            "Crème brûlée",
            "Apple crumble",
            "Panna cotta",
            "Cheesecake",
        ],
    ),
    (
        "Drinks",
        &[
            "Fresh lemonade",
            "Iced tea",
            "Espresso",
            "Cappuccino",
            "Sparkling water",
            "Ginger beer",
            "House red wine",
        ],
    ),
];

pub const RESTAURANT_A: &[&str] = &[
    "The Olive",
    "Blue Door",
    "Saffron",
    "Juniper",
    "The Copper Pot",
    "Harvest",
    "Little Fig",
    "Marigold",
];
pub const RESTAURANT_B: &[&str] = &[
    "Bistro",
    "Kitchen",
    "Café",
    "Trattoria",
    "Brasserie",
    "Eatery",
];

pub const JOB_TITLES: &[&str] = &[
    "Data Analyst",
    "Project Manager",
    "Software Engineer",
    "Marketing Coordinator",
    "Accountant",
    "UX Designer",
    "Operations Lead",
    "Research Assistant",
    "Sales Associate",
    "Nurse Practitioner",
    "Logistics Planner",
    "Content Writer",
];

pub const SKILLS: &[&str] = &[
    "SQL",
    "Python",
    "Excel",
    "Budgeting",
    "Public speaking",
    "Figma",
    "Project planning",
    "Customer service",
    "Spanish",
    "Tableau",
    "Negotiation",
    "Technical writing",
    "Scheduling",
    "Photography",
    "Inventory control",
    "First aid",
    "Git",
    "Copywriting",
    "Bookkeeping",
    "R",
];

pub const UNIVERSITIES: &[&str] = &[
    "University of Leeds",
    "Portland State University",
    "University of Porto",
    "Aarhus University",
    "University of Utrecht",
    "Boise State University",
    "University of Adelaide",
    "Ghent University",
];

pub const DEGREES: &[&str] = &[
    "B.Sc. Statistics",
    "B.A. Communications",
    "M.Sc. Computer Science",
    "B.Com. Accounting",
    "M.A. Design",
    "B.Sc. Nursing",
    "MBA",
    "B.Eng. Civil Engineering",
];

pub const SESSIONS: &[&str] = &[
    "Opening keynote",
    "Data in practice",
    "Design sprint",
    "Panel: Future of work",
    "Lunch and networking",
    "Hands-on workshop",
    "Lightning talks",
    "Case study review",
    "Coffee break",
    "Closing remarks",
    "Poster session",
    "Community roundtable",
    "Team standup",
    "Budget review",
    "Client call",
    "Training: Safety basics",
];

pub const ROOMS: &[&str] = &[
    "Room A",
    "Room B",
    "Main Hall",
    "Studio 2",
    "Lab 3",
    "Library",
    "Auditorium",
    "Boardroom",
];

pub const NEWS_ORGS: &[&str] = &[
    "Riverside Neighbourhood Association",
    "Harbor Rowing Club",
    "Maple Street School PTA",
    "Green Valley Garden Society",
    "Northside Library Friends",
    "Westfield Chamber of Commerce",
    "Summit Hiking Club",
    "Lakeshore Arts Collective",
];

pub const HEADLINES: &[&str] = &[
    "Community garden expands to a second plot",
    "Volunteers clean up the riverbank",
    "New reading hour for young families",
    "Spring fundraiser beats its target",
    "Meet our new board members",
    "Bike lane survey results are in",
    "Annual picnic moves to the park pavilion",
    "Workshop series on home energy savings",
    "Local students win regional science fair",
    "Recycling drop-off hours are changing",
];

pub const SENTENCES: &[&str] = &[
    "Thank you to everyone who contributed their time and energy over the past months.",
    "Details are still being finalised, and updates will follow in the next issue.",
    "Members are encouraged to sign up early, as places are limited.",
    "The committee reviewed several proposals before reaching a decision.",
    "Feedback from the last meeting has been incorporated into the plan.",
    "We look forward to welcoming new faces at upcoming events.",
    "Please contact the coordinator with any questions or suggestions.",
    "The results reflect a steady improvement compared with last year.",
    "A short summary of the discussion is included below.",
    "Refreshments will be provided, and everyone is welcome to attend.",
    "This work would not have been possible without our partners.",
    "Further information is available from the front desk.",
];

pub fn paragraph(rng: &mut Rng, sentences: usize) -> String {
    pick_distinct(rng, SENTENCES, sentences).join(" ")
}
