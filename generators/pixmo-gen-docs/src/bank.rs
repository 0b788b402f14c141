//! Built-in banks of personas, topics, entity names and units, combined procedurally.
//!
//! A persona is `qualifier + profession + place`; a topic is a domain subject with a place
//! and a period; category and series names come from entity lists. With 24 domains, about
//! 100 professions, 24 qualifiers, 60 places and several subjects per domain, seeds rarely
//! repeat a (persona, topic, entities) combination across hundreds of thousands of figures.

use pixmo_core::Rng;

/// What the categories of a chart are.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Axis {
    Months,
    Quarters,
    Years,
    Weekdays,
    List(&'static [&'static str]),
}

/// A measurable subject of a domain.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Subject {
    /// Noun phrase used in titles (`Electricity generation`).
    pub measure: &'static str,
    /// Unit printed on the value axis.
    pub unit: &'static str,
    /// Typical value range.
    pub range: (f64, f64),
    /// Decimals shown for values.
    pub decimals: u8,
    /// Category axis.
    pub categories: Axis,
    /// What the series are (several series per chart).
    pub series: &'static [&'static str],
}

/// A domain: who cares about it and what they measure.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Domain {
    pub name: &'static str,
    pub professions: &'static [&'static str],
    pub subjects: &'static [Subject],
    /// Steps of processes in this domain (flowcharts, timelines).
    pub steps: &'static [&'static str],
    /// Yes/no checks used as flowchart decisions.
    pub checks: &'static [&'static str],
    /// Milestones (timelines).
    pub milestones: &'static [&'static str],
}

pub(crate) const QUALIFIERS: &[&str] = &[
    "A retired",
    "A young",
    "A mid-career",
    "An ambitious",
    "A curious",
    "A detail-oriented",
    "A skeptical",
    "A newly hired",
    "A veteran",
    "A part-time",
    "An award-winning",
    "A self-taught",
    "A bilingual",
    "A pragmatic",
    "A data-savvy",
    "An enthusiastic",
    "A cautious",
    "A freelance",
    "A senior",
    "A junior",
    "A community-minded",
    "A visiting",
    "A semi-retired",
    "An independent",
];

pub(crate) const PLACES: &[&str] = &[
    "Lisbon",
    "Nairobi",
    "Osaka",
    "Toronto",
    "Lima",
    "Krakow",
    "Accra",
    "Melbourne",
    "Valparaiso",
    "Dublin",
    "Hanoi",
    "Tbilisi",
    "Cebu",
    "Porto Alegre",
    "Tampere",
    "Marrakesh",
    "Winnipeg",
    "Chennai",
    "Bergen",
    "Cordoba",
    "Leeds",
    "Boise",
    "Dakar",
    "Auckland",
    "Graz",
    "Kaunas",
    "Tucson",
    "Halifax",
    "Izmir",
    "Busan",
    "Ghent",
    "Bilbao",
    "Quito",
    "Durban",
    "Perth",
    "Aarhus",
    "Cluj",
    "Salvador",
    "Kyoto",
    "Madison",
    "Seville",
    "Lyon",
    "Dresden",
    "Pune",
    "Mombasa",
    "Arequipa",
    "Brno",
    "Tartu",
    "Galway",
    "Utrecht",
    "Cusco",
    "Hobart",
    "Bologna",
    "Riga",
    "Zanzibar",
    "Oaxaca",
    "Tromso",
    "Nagoya",
    "Adelaide",
    "Fresno",
];

pub(crate) const REGIONS: &[&str] = &[
    "North",
    "South",
    "East",
    "West",
    "Central",
    "Coastal",
    "Highlands",
    "Metro",
    "Rural",
    "Harbor",
    "Valley",
    "Lakeside",
];

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Amara", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jia", "Kofi",
    "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor",
    "Wen", "Ximena", "Yusuf", "Zoe", "Aiko", "Bilal", "Carmen", "Dmitri", "Elif", "Felix", "Grace",
    "Hugo", "Ines", "Jonas", "Kira", "Luis", "Maya", "Nikos",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Moreau",
    "Novak",
    "Haddad",
    "Silva",
    "Kowalski",
    "Mensah",
    "Rossi",
    "Nguyen",
    "Schmidt",
    "Alvarez",
    "Petrov",
    "Osei",
    "Larsen",
    "Ibrahim",
    "Costa",
    "Fischer",
    "Yilmaz",
    "Park",
    "Dubois",
    "Eriksen",
    "Mwangi",
    "Sato",
    "Varga",
    "Quispe",
    "Reyes",
    "Horvat",
    "Byrne",
];

/// Org-chart titles by level (0 = top).
pub(crate) const TITLES: &[&[&str]] = &[
    &[
        "Chief Executive Officer",
        "Executive Director",
        "Managing Director",
        "President",
    ],
    &[
        "VP Operations",
        "VP Engineering",
        "VP Finance",
        "VP Marketing",
        "VP Sales",
        "VP People",
        "Chief Data Officer",
        "Head of Research",
    ],
    &[
        "Director",
        "Program Director",
        "Regional Director",
        "Product Director",
        "Lab Director",
    ],
    &[
        "Manager",
        "Team Lead",
        "Project Manager",
        "Senior Analyst",
        "Coordinator",
    ],
];

pub(crate) const FRUITS: &[&str] = &[
    "Apples", "Bananas", "Cherries", "Grapes", "Mangoes", "Oranges", "Pears", "Plums", "Kiwis",
    "Lemons",
];
pub(crate) const COUNTRIES: &[&str] = &[
    "Brazil", "Canada", "Chile", "Egypt", "Finland", "Ghana", "India", "Japan", "Kenya", "Mexico",
    "Norway", "Peru", "Poland", "Spain", "Vietnam", "Turkey",
];
pub(crate) const SPORTS: &[&str] = &[
    "Football",
    "Basketball",
    "Tennis",
    "Swimming",
    "Cycling",
    "Athletics",
    "Volleyball",
    "Rowing",
    "Badminton",
    "Hockey",
];
pub(crate) const DEVICES: &[&str] = &[
    "Phones",
    "Laptops",
    "Tablets",
    "Smartwatches",
    "Headphones",
    "Cameras",
    "Monitors",
    "Speakers",
];
pub(crate) const CROPS: &[&str] = &[
    "Wheat", "Maize", "Rice", "Barley", "Soybeans", "Potatoes", "Sorghum", "Cassava", "Oats",
];
pub(crate) const ENERGY: &[&str] = &[
    "Solar",
    "Wind",
    "Hydro",
    "Nuclear",
    "Gas",
    "Coal",
    "Biomass",
    "Geothermal",
];
pub(crate) const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Marketing",
    "Engineering",
    "Support",
    "Finance",
    "Legal",
    "Operations",
    "Research",
];
pub(crate) const GENRES: &[&str] = &[
    "Mystery",
    "Fantasy",
    "Biography",
    "Poetry",
    "History",
    "Romance",
    "Science",
    "Travel",
    "Cooking",
];
pub(crate) const SPECIES: &[&str] = &[
    "Sparrows",
    "Robins",
    "Herons",
    "Owls",
    "Finches",
    "Swallows",
    "Gulls",
    "Woodpeckers",
    "Kestrels",
];
pub(crate) const TRANSPORT: &[&str] = &[
    "Bus", "Tram", "Metro", "Bicycle", "Walking", "Car", "Ferry", "Scooter",
];
pub(crate) const DISHES: &[&str] = &[
    "Pasta", "Curry", "Tacos", "Ramen", "Salads", "Burgers", "Sushi", "Pizza", "Soups",
];
pub(crate) const AGE_GROUPS: &[&str] = &[
    "Under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+",
];
pub(crate) const CHANNELS: &[&str] = &[
    "Email", "Search", "Social", "Referral", "Direct", "Display", "Video",
];
pub(crate) const WARDS: &[&str] = &[
    "Cardiology",
    "Oncology",
    "Pediatrics",
    "Neurology",
    "Orthopedics",
    "Emergency",
    "Maternity",
];
pub(crate) const MATERIALS: &[&str] = &[
    "Plastic", "Paper", "Glass", "Metal", "Textiles", "Organic", "E-waste",
];
pub(crate) const INSTRUMENTS: &[&str] = &[
    "Piano",
    "Guitar",
    "Violin",
    "Drums",
    "Flute",
    "Cello",
    "Trumpet",
    "Saxophone",
];
pub(crate) const SUBJECTS_SCHOOL: &[&str] = &[
    "Math",
    "Physics",
    "Biology",
    "Chemistry",
    "History",
    "Art",
    "Music",
    "Geography",
];
pub(crate) const SERVICES: &[&str] = &[
    "Auth",
    "Billing",
    "Search",
    "Gateway",
    "Cache",
    "Queue",
    "Storage",
    "Analytics",
    "Mailer",
    "Scheduler",
    "Inventory",
    "Payments",
];
pub(crate) const SHIPS: &[&str] = &["Cargo", "Tanker", "Cruise", "Fishing", "Ferry", "Container"];
pub(crate) const PRODUCTS: &[&str] = &[
    "Espresso",
    "Latte",
    "Cappuccino",
    "Mocha",
    "Cold Brew",
    "Chai",
    "Matcha",
    "Americano",
];
pub(crate) const STORES: &[&str] = &[
    "Downtown",
    "Airport",
    "Mall",
    "Campus",
    "Station",
    "Harbor",
    "Uptown",
    "Riverside",
];
pub(crate) const SCENARIOS: &[&str] = &[
    "Baseline",
    "Target",
    "Forecast",
    "Actual",
    "Budget",
    "Previous year",
];

macro_rules! subject {
    ($measure:expr, $unit:expr, $lo:expr, $hi:expr, $dec:expr, $cats:expr, $series:expr) => {
        Subject {
            measure: $measure,
            unit: $unit,
            range: ($lo, $hi),
            decimals: $dec,
            categories: $cats,
            series: $series,
        }
    };
}

use Axis::{List, Months, Quarters, Weekdays, Years};

pub(crate) const DOMAINS: &[Domain] = &[
    Domain {
        name: "energy",
        professions: &[
            "renewable energy engineer",
            "grid operator",
            "energy policy analyst",
            "solar installer",
        ],
        subjects: &[
            subject!(
                "Electricity generation",
                "GWh",
                20.0,
                900.0,
                0,
                List(ENERGY),
                REGIONS
            ),
            subject!(
                "Average household consumption",
                "kWh",
                150.0,
                900.0,
                0,
                Months,
                SCENARIOS
            ),
            subject!("Installed capacity", "MW", 5.0, 400.0, 1, Years, ENERGY),
        ],
        steps: &[
            "Inspect panels",
            "Measure output",
            "Log readings",
            "Order parts",
            "Replace inverter",
            "Notify grid operator",
            "Schedule maintenance",
            "Update dashboard",
            "Approve budget",
            "Test connection",
        ],
        checks: &[
            "Output below target?",
            "Parts in stock?",
            "Weather safe?",
            "Budget approved?",
            "Inspection passed?",
        ],
        milestones: &[
            "Feasibility study",
            "Permit granted",
            "Construction start",
            "First power",
            "Grid connection",
            "Capacity upgrade",
            "Storage added",
            "Full operation",
        ],
    },
    Domain {
        name: "agriculture",
        professions: &[
            "smallholder farmer",
            "agronomist",
            "irrigation planner",
            "cooperative manager",
        ],
        subjects: &[
            subject!(
                "Harvest yield",
                "tonnes",
                10.0,
                600.0,
                0,
                List(CROPS),
                REGIONS
            ),
            subject!("Rainfall", "mm", 5.0, 250.0, 0, Months, REGIONS),
            subject!(
                "Fertilizer cost",
                "USD per hectare",
                40.0,
                400.0,
                0,
                Years,
                CROPS
            ),
        ],
        steps: &[
            "Test soil",
            "Plant seeds",
            "Irrigate fields",
            "Apply fertilizer",
            "Monitor pests",
            "Harvest crop",
            "Dry grain",
            "Store harvest",
            "Sell at market",
            "Record yields",
        ],
        checks: &[
            "Soil moisture low?",
            "Pests detected?",
            "Grain dry enough?",
            "Price acceptable?",
            "Storage full?",
        ],
        milestones: &[
            "Cooperative founded",
            "Irrigation canal built",
            "Seed bank opened",
            "Organic certification",
            "Cold storage added",
            "Export license",
            "Drone survey",
        ],
    },
    Domain {
        name: "retail",
        professions: &[
            "coffee shop owner",
            "store manager",
            "retail buyer",
            "e-commerce analyst",
        ],
        subjects: &[
            subject!(
                "Drinks sold",
                "cups",
                50.0,
                900.0,
                0,
                List(PRODUCTS),
                STORES
            ),
            subject!("Revenue", "thousand USD", 10.0, 250.0, 1, Quarters, STORES),
            subject!(
                "Foot traffic",
                "visitors",
                100.0,
                2000.0,
                0,
                Weekdays,
                STORES
            ),
        ],
        steps: &[
            "Receive order",
            "Check inventory",
            "Pick items",
            "Pack order",
            "Print label",
            "Ship package",
            "Send confirmation",
            "Process return",
            "Issue refund",
            "Restock shelf",
        ],
        checks: &[
            "Item in stock?",
            "Payment cleared?",
            "Address valid?",
            "Return within 30 days?",
            "Damaged on arrival?",
        ],
        milestones: &[
            "First store opened",
            "Loyalty program",
            "Online shop launch",
            "Second location",
            "Mobile app",
            "Franchise deal",
            "Rebrand",
        ],
    },
    Domain {
        name: "health",
        professions: &[
            "hospital administrator",
            "public health nurse",
            "epidemiologist",
            "clinic director",
        ],
        subjects: &[
            subject!(
                "Patient admissions",
                "patients",
                20.0,
                800.0,
                0,
                List(WARDS),
                YEARS_SERIES
            ),
            subject!(
                "Average wait time",
                "minutes",
                5.0,
                120.0,
                0,
                Weekdays,
                WARDS
            ),
            subject!(
                "Vaccination rate",
                "%",
                20.0,
                98.0,
                1,
                List(AGE_GROUPS),
                REGIONS
            ),
        ],
        steps: &[
            "Register patient",
            "Triage",
            "Take vitals",
            "Consult doctor",
            "Order tests",
            "Review results",
            "Prescribe treatment",
            "Admit to ward",
            "Discharge patient",
            "Schedule follow-up",
        ],
        checks: &[
            "Condition urgent?",
            "Tests abnormal?",
            "Bed available?",
            "Insurance valid?",
            "Symptoms improved?",
        ],
        milestones: &[
            "Clinic opened",
            "New wing built",
            "Electronic records",
            "Telehealth launch",
            "Research unit",
            "Accreditation",
            "Mobile clinic",
        ],
    },
    Domain {
        name: "education",
        professions: &[
            "high school teacher",
            "school principal",
            "education researcher",
            "curriculum designer",
        ],
        subjects: &[
            subject!(
                "Average test score",
                "points",
                40.0,
                98.0,
                1,
                List(SUBJECTS_SCHOOL),
                YEARS_SERIES
            ),
            subject!(
                "Enrollment",
                "students",
                50.0,
                1200.0,
                0,
                Years,
                LIST_SERIES
            ),
            subject!(
                "Library loans",
                "books",
                20.0,
                500.0,
                0,
                List(GENRES),
                MONTHS_SERIES
            ),
        ],
        steps: &[
            "Submit application",
            "Review transcript",
            "Interview",
            "Send offer",
            "Enroll student",
            "Assign mentor",
            "Plan courses",
            "Hold orientation",
            "Grade exams",
            "Publish results",
        ],
        checks: &[
            "Grades sufficient?",
            "Documents complete?",
            "Offer accepted?",
            "Scholarship eligible?",
            "Exam passed?",
        ],
        milestones: &[
            "School founded",
            "Science lab opened",
            "First graduates",
            "Library expansion",
            "Laptop program",
            "Sports hall",
            "Exchange program",
        ],
    },
    Domain {
        name: "transport",
        professions: &[
            "urban planner",
            "transit scheduler",
            "logistics coordinator",
            "cycling advocate",
        ],
        subjects: &[
            subject!(
                "Daily riders",
                "thousand trips",
                1.0,
                90.0,
                1,
                List(TRANSPORT),
                YEARS_SERIES
            ),
            subject!("Commute share", "%", 2.0, 60.0, 1, List(TRANSPORT), REGIONS),
            subject!("Port arrivals", "vessels", 5.0, 300.0, 0, Months, SHIPS),
        ],
        steps: &[
            "Plan route",
            "Assign driver",
            "Load vehicle",
            "Depart depot",
            "Deliver goods",
            "Collect signature",
            "Return to depot",
            "Log mileage",
            "Refuel",
            "Report delay",
        ],
        checks: &[
            "Traffic heavy?",
            "Recipient present?",
            "Vehicle fault?",
            "On schedule?",
            "Fuel low?",
        ],
        milestones: &[
            "Tram line opened",
            "Bike lanes added",
            "Electric buses",
            "Metro extension",
            "Smart tickets",
            "Night service",
            "Car-free zone",
        ],
    },
    Domain {
        name: "wildlife",
        professions: &[
            "bird rescuer",
            "park ranger",
            "conservation biologist",
            "wildlife photographer",
        ],
        subjects: &[
            subject!(
                "Birds counted",
                "birds",
                5.0,
                400.0,
                0,
                List(SPECIES),
                YEARS_SERIES
            ),
            subject!("Sightings", "sightings", 2.0, 150.0, 0, Months, SPECIES),
            subject!(
                "Nesting success",
                "%",
                10.0,
                95.0,
                1,
                List(SPECIES),
                REGIONS
            ),
        ],
        steps: &[
            "Receive call",
            "Rescue animal",
            "Assess injuries",
            "Clean wounds",
            "Feed",
            "Monitor recovery",
            "Test flight",
            "Release",
            "Record case",
            "Notify volunteers",
        ],
        checks: &[
            "Injury severe?",
            "Eating normally?",
            "Can fly?",
            "Species protected?",
            "Weather suitable?",
        ],
        milestones: &[
            "Sanctuary founded",
            "First release",
            "Volunteer program",
            "Wetland restored",
            "Ringing station",
            "Visitor center",
            "Species reintroduced",
        ],
    },
    Domain {
        name: "technology",
        professions: &[
            "site reliability engineer",
            "product manager",
            "data engineer",
            "security analyst",
        ],
        subjects: &[
            subject!(
                "Requests served",
                "million",
                1.0,
                90.0,
                1,
                List(SERVICES),
                QUARTERS_SERIES
            ),
            subject!("Average latency", "ms", 5.0, 450.0, 0, Months, SERVICES),
            subject!(
                "Devices shipped",
                "thousand units",
                10.0,
                900.0,
                0,
                List(DEVICES),
                YEARS_SERIES
            ),
        ],
        steps: &[
            "Open ticket",
            "Reproduce bug",
            "Write fix",
            "Run tests",
            "Code review",
            "Merge change",
            "Deploy to staging",
            "Deploy to production",
            "Monitor metrics",
            "Close ticket",
        ],
        checks: &[
            "Tests pass?",
            "Review approved?",
            "Error rate high?",
            "Rollback needed?",
            "Customer affected?",
        ],
        milestones: &[
            "Prototype",
            "Beta release",
            "Version 1.0",
            "Cloud migration",
            "Mobile client",
            "API launch",
            "One million users",
        ],
    },
    Domain {
        name: "sports",
        professions: &[
            "youth football coach",
            "sports journalist",
            "fitness trainer",
            "league statistician",
        ],
        subjects: &[
            subject!(
                "Club members",
                "members",
                20.0,
                800.0,
                0,
                List(SPORTS),
                YEARS_SERIES
            ),
            subject!("Goals scored", "goals", 0.0, 40.0, 0, Months, LIST_SERIES),
            subject!("Training hours", "hours", 2.0, 30.0, 1, Weekdays, SPORTS),
        ],
        steps: &[
            "Warm up",
            "Stretch",
            "Drill passing",
            "Practice shooting",
            "Scrimmage",
            "Cool down",
            "Review video",
            "Set goals",
            "Check injuries",
            "Plan next session",
        ],
        checks: &[
            "Player injured?",
            "Pitch playable?",
            "Score tied?",
            "Target reached?",
            "Coach available?",
        ],
        milestones: &[
            "Club founded",
            "First trophy",
            "New stadium",
            "Youth academy",
            "Promotion",
            "National title",
            "Women's team",
        ],
    },
    Domain {
        name: "finance",
        professions: &[
            "personal finance blogger",
            "credit union analyst",
            "small business accountant",
            "investment advisor",
        ],
        subjects: &[
            subject!(
                "Monthly spending",
                "USD",
                50.0,
                1500.0,
                0,
                List(&[
                    "Rent",
                    "Groceries",
                    "Transport",
                    "Utilities",
                    "Dining",
                    "Savings",
                    "Health",
                    "Leisure"
                ]),
                YEARS_SERIES
            ),
            subject!(
                "Department budget",
                "thousand USD",
                20.0,
                900.0,
                0,
                List(DEPARTMENTS),
                SCENARIOS
            ),
            subject!("Interest rate", "%", 0.5, 12.0, 2, Years, LIST_SERIES),
        ],
        steps: &[
            "Submit invoice",
            "Verify amount",
            "Match purchase order",
            "Approve payment",
            "Schedule transfer",
            "Send remittance",
            "Reconcile account",
            "Archive records",
            "Flag exception",
            "Notify vendor",
        ],
        checks: &[
            "Amount matches?",
            "Over approval limit?",
            "Vendor verified?",
            "Duplicate invoice?",
            "Funds available?",
        ],
        milestones: &[
            "Company incorporated",
            "First profit",
            "Bank loan",
            "Audit passed",
            "New office",
            "Acquisition",
            "IPO",
        ],
    },
    Domain {
        name: "food",
        professions: &[
            "restaurant owner",
            "food truck operator",
            "nutritionist",
            "school cafeteria manager",
        ],
        subjects: &[
            subject!(
                "Dishes ordered",
                "orders",
                10.0,
                500.0,
                0,
                List(DISHES),
                WEEKDAYS_SERIES
            ),
            subject!("Food waste", "kg", 2.0, 120.0, 1, Weekdays, LIST_SERIES),
            subject!("Fruit sales", "kg", 10.0, 700.0, 0, List(FRUITS), STORES),
        ],
        steps: &[
            "Take order",
            "Prepare ingredients",
            "Cook dish",
            "Plate food",
            "Quality check",
            "Serve table",
            "Clear table",
            "Take payment",
            "Wash dishes",
            "Update stock",
        ],
        checks: &[
            "Ingredients fresh?",
            "Allergy noted?",
            "Dish approved?",
            "Table ready?",
            "Stock low?",
        ],
        milestones: &[
            "Opening night",
            "First review",
            "Menu redesign",
            "Delivery service",
            "Second kitchen",
            "Award",
            "Cookbook",
        ],
    },
    Domain {
        name: "environment",
        professions: &[
            "recycling coordinator",
            "climate scientist",
            "environmental journalist",
            "city sustainability officer",
        ],
        subjects: &[
            subject!(
                "Waste collected",
                "tonnes",
                5.0,
                300.0,
                0,
                List(MATERIALS),
                YEARS_SERIES
            ),
            subject!(
                "Average temperature",
                "deg C",
                2.0,
                32.0,
                1,
                Months,
                LIST_SERIES
            ),
            subject!("Trees planted", "trees", 50.0, 3000.0, 0, Years, REGIONS),
        ],
        steps: &[
            "Collect waste",
            "Weigh load",
            "Sort materials",
            "Remove contaminants",
            "Bale materials",
            "Sell to processor",
            "Record tonnage",
            "Educate residents",
            "Inspect bins",
            "Publish report",
        ],
        checks: &[
            "Load contaminated?",
            "Market price high?",
            "Bin overflowing?",
            "Target met?",
            "Hazardous item?",
        ],
        milestones: &[
            "Recycling program",
            "Compost site",
            "Plastic bag ban",
            "Solar landfill",
            "Repair cafe",
            "Zero-waste pledge",
            "Deposit scheme",
        ],
    },
    Domain {
        name: "music",
        professions: &[
            "music teacher",
            "concert promoter",
            "orchestra manager",
            "indie musician",
        ],
        subjects: &[
            subject!(
                "Students enrolled",
                "students",
                3.0,
                120.0,
                0,
                List(INSTRUMENTS),
                YEARS_SERIES
            ),
            subject!(
                "Tickets sold",
                "tickets",
                50.0,
                2500.0,
                0,
                Months,
                LIST_SERIES
            ),
            subject!("Streams", "thousand", 1.0, 500.0, 1, Quarters, LIST_SERIES),
        ],
        steps: &[
            "Book venue",
            "Confirm artists",
            "Set ticket price",
            "Promote event",
            "Sound check",
            "Open doors",
            "Perform",
            "Pay artists",
            "Collect feedback",
            "Plan next show",
        ],
        checks: &[
            "Venue available?",
            "Tickets sold out?",
            "Weather fine?",
            "Equipment working?",
            "Budget exceeded?",
        ],
        milestones: &[
            "Band formed",
            "First gig",
            "Debut album",
            "National tour",
            "Festival slot",
            "Record deal",
            "Anniversary concert",
        ],
    },
    Domain {
        name: "marketing",
        professions: &[
            "growth marketer",
            "brand strategist",
            "social media manager",
            "market researcher",
        ],
        subjects: &[
            subject!(
                "Website visits",
                "thousand",
                1.0,
                300.0,
                1,
                List(CHANNELS),
                QUARTERS_SERIES
            ),
            subject!(
                "Conversion rate",
                "%",
                0.5,
                15.0,
                2,
                List(CHANNELS),
                YEARS_SERIES
            ),
            subject!(
                "Survey respondents",
                "people",
                10.0,
                600.0,
                0,
                List(AGE_GROUPS),
                REGIONS
            ),
        ],
        steps: &[
            "Define audience",
            "Set budget",
            "Write copy",
            "Design creative",
            "Launch campaign",
            "Track clicks",
            "A/B test",
            "Optimize bids",
            "Report results",
            "Archive assets",
        ],
        checks: &[
            "Budget left?",
            "CTR above 2%?",
            "Creative approved?",
            "Test significant?",
            "Audience large enough?",
        ],
        milestones: &[
            "Brand launch",
            "Website redesign",
            "First viral post",
            "Newsletter start",
            "Podcast launch",
            "Rebrand",
            "Ambassador program",
        ],
    },
];

// Series descriptors resolved at sampling time (`@years`: a run of years, `@list`: countries).
const YEARS_SERIES: &[&str] = &["@years"];
const LIST_SERIES: &[&str] = &["@list"];
const MONTHS_SERIES: &[&str] = &["@months"];
const QUARTERS_SERIES: &[&str] = &["@quarters"];
const WEEKDAYS_SERIES: &[&str] = &["@weekdays"];

pub(crate) const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
pub(crate) const WEEKDAYS: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Picks `n` distinct items of `items` in their original order (a contiguous run when
/// `contiguous`, as for months or years).
pub(crate) fn pick<'a>(
    rng: &mut Rng,
    items: &[&'a str],
    n: usize,
    contiguous: bool,
) -> Vec<&'a str> {
    let n = n.min(items.len());
    if contiguous {
        let start = rng.index(items.len() - n + 1);
        return items[start..start + n].to_vec();
    }
    let mut idx: Vec<usize> = (0..items.len()).collect();
    for i in 0..n {
        let j = i + rng.index(idx.len() - i);
        idx.swap(i, j);
    }
    let mut chosen = idx[..n].to_vec();
    chosen.sort_unstable();
    chosen.into_iter().map(|i| items[i]).collect()
}

/// `n` names of an axis kind.
pub(crate) fn axis_names(rng: &mut Rng, axis: Axis, n: usize) -> Vec<String> {
    match axis {
        Axis::Months => pick(rng, MONTHS, n, true)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        Axis::Weekdays => pick(rng, WEEKDAYS, n, true)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        Axis::Quarters => {
            let year = 2015 + rng.range_u32(0, 10);
            let start = rng.range_u32(0, 4);
            (0..n as u32)
                .map(|i| format!("Q{} {}", (start + i) % 4 + 1, year + (start + i) / 4))
                .collect()
        }
        Axis::Years => {
            let start = 1995 + rng.range_u32(0, 25);
            let step = if rng.bool(0.3) { 5 } else { 1 };
            (0..n as u32)
                .map(|i| (start + i * step).to_string())
                .collect()
        }
        Axis::List(items) => pick(rng, items, n, false)
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }
}

/// Series names for a subject, distinct from `categories`.
pub(crate) fn series_names(rng: &mut Rng, subject: &Subject, n: usize) -> Vec<String> {
    let names: Vec<String> = match subject.series.first().copied() {
        Some("@years") => axis_names(rng, Axis::Years, n),
        Some("@months") => axis_names(rng, Axis::Months, n),
        Some("@quarters") => axis_names(rng, Axis::Quarters, n),
        Some("@weekdays") => axis_names(rng, Axis::Weekdays, n),
        Some("@list") => axis_names(rng, Axis::List(COUNTRIES), n),
        _ => axis_names(rng, Axis::List(subject.series), n),
    };
    names
}

/// Maximum number of categories an axis kind offers.
pub(crate) fn axis_len(axis: Axis) -> usize {
    match axis {
        Axis::Months => 12,
        Axis::Weekdays => 7,
        Axis::Quarters | Axis::Years => 12,
        Axis::List(items) => items.len(),
    }
}

/// A persona of a domain.
pub(crate) fn persona(rng: &mut Rng, domain: &Domain) -> String {
    let qualifier = QUALIFIERS[rng.index(QUALIFIERS.len())];
    let profession = domain.professions[rng.index(domain.professions.len())];
    let place = PLACES[rng.index(PLACES.len())];
    let tail = match rng.index(4) {
        0 => format!("based in {place}"),
        1 => format!("preparing a report for a meeting in {place}"),
        2 => format!("who volunteers in {place}"),
        _ => format!("writing a newsletter for readers in {place}"),
    };
    format!("{qualifier} {profession} {tail}")
}

/// A full name.
pub(crate) fn full_name(rng: &mut Rng) -> String {
    format!(
        "{} {}",
        FIRST_NAMES[rng.index(FIRST_NAMES.len())],
        LAST_NAMES[rng.index(LAST_NAMES.len())]
    )
}

/// A random domain.
pub(crate) fn domain(rng: &mut Rng) -> &'static Domain {
    &DOMAINS[rng.index(DOMAINS.len())]
}

/// A random place.
pub(crate) fn place(rng: &mut Rng) -> &'static str {
    PLACES[rng.index(PLACES.len())]
}
