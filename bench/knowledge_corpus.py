"""A labelled retrieval corpus: fifteen company policy documents in several
formats and lengths, and questions employees ask, each labelled with the one
passage that answers it, in three phrasings:

- "words": in the document's own words;
- "paraphrase": the same question in other words (synonyms, no shared key term);
- "short": a few words, as typed into a search box.

Each labelled fact lives in one place only. `answer` is a phrase found in the
answering passage and nowhere else in the corpus (checked by `check()`), so a
retrieved passage answers when it comes from `file` and contains `answer`.

Plain data and renderers only (no Django), so benchmarks and tests share it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

Section = tuple[str, list[str]]  # heading, paragraphs


@dataclass(frozen=True)
class Document:
    name: str  # file name, its extension says the format
    title: str
    sections: list[Section]


@dataclass(frozen=True)
class Question:
    file: str
    answer: str  # a phrase only the answering passage contains
    words: str
    paraphrase: str
    short: str


DOCUMENTS: list[Document] = [
    Document("travel-policy.md", "Business Travel Policy", [
        ("Purpose", [
            "This policy explains how employees of Northwind Labs book, take and pay for "
            "business trips. It applies to every employee and contractor who travels on "
            "company business.",
        ]),
        ("Booking trips", [
            "All flights, trains and hotels are booked through the travel desk portal at "
            "least 14 days before departure. Bookings made outside the portal are not "
            "reimbursed unless the travel desk was unavailable.",
            "Economy class is the standard for flights. Business class is allowed only for "
            "flights longer than eight hours and needs the approval of a director.",
        ]),
        ("Hotels", [
            "Hotel stays are capped at 180 euros per night in most cities and 250 euros per "
            "night in London, Paris, New York and Tokyo. Choose a hotel within 30 minutes "
            "of the office or client site you visit.",
        ]),
        ("Per diem abroad", [
            "When you travel abroad, you receive a per diem of 65 euros for each full day "
            "to cover meals and incidentals. Days of departure and return are paid at 50 "
            "percent. The per diem replaces meal receipts: do not claim meals separately.",
        ]),
        ("Using your own car", [
            "If you drive your own car on a business trip, mileage is reimbursed at 0.30 "
            "euros per kilometre. Parking and tolls are reimbursed with receipts. Fines are "
            "never reimbursed.",
        ]),
        ("Travel insurance", [
            "Every business trip is covered by the company travel insurance, including "
            "medical emergencies and lost luggage. The insurance card is on the intranet "
            "under Travel. Call the 24-hour assistance line +44 20 7946 0321 in an emergency.",
        ]),
    ]),
    Document("expense-reimbursement.docx", "Expense Reimbursement Procedure", [
        ("Scope", [
            "This procedure covers out-of-pocket expenses that employees pay themselves for "
            "company purposes, such as client meals, travel costs and small purchases.",
        ]),
        ("Submitting a claim", [
            "Submit every expense claim in the Expensify app within 30 days of the expense. "
            "Claims submitted later than 90 days after the expense are rejected.",
            "Attach a photo of each itemised receipt. For any expense without a receipt, "
            "fill in the missing receipt declaration; at most two such declarations are "
            "accepted per quarter.",
        ]),
        ("Approval", [
            "Your line manager approves claims up to 500 euros. Claims above 500 euros also "
            "need approval from the finance controller.",
        ]),
        ("Payment", [
            "Approved expenses are paid with the next monthly salary run on the 25th of the "
            "month. Claims approved after the 15th are paid the following month.",
        ]),
        ("Client entertainment", [
            "Meals with clients are reimbursed up to 80 euros per person including drinks. "
            "Write the names of the guests and their company on the claim.",
        ]),
    ]),
    Document("parking.txt", "Parking and Commuting", [
        ("Parking permits", [
            "Staff parking in the underground garage needs a permit. Request a permit from "
            "Facilities with your licence plate number; permits are issued within three "
            "working days and cost 40 euros per month, deducted from salary.",
        ]),
        ("Electric vehicle charging", [
            "Twelve charging points on level -1 are reserved for electric cars. Charging is "
            "free for employees, but move your car once it is charged so colleagues can use "
            "the point. Sessions longer than four hours are flagged.",
        ]),
        ("Visitor parking", [
            "Visitors park in the marked spaces in front of the main entrance. Register the "
            "visitor's licence plate at reception the day before their visit.",
        ]),
        ("Bicycles", [
            "A secure bike room with 60 racks and showers is next to the garage entrance. "
            "Your staff badge opens it. Employees who cycle to work at least three days a "
            "week can join the bike lease scheme.",
        ]),
        ("Public transport", [
            "The company pays 50 percent of an annual public transport pass. Send the "
            "invoice for the pass to payroll; the refund is paid in twelve monthly parts.",
        ]),
    ]),
    Document("it-equipment.docx", "IT Equipment Policy", [
        ("Standard equipment", [
            "Every employee receives a laptop, a docking station, a headset and one external "
            "monitor. Developers may request a second monitor from the IT service desk.",
        ]),
        ("Laptop replacement", [
            "Laptops are replaced every three years. Your laptop is refreshed automatically; "
            "IT contacts you a month before the refresh date. An earlier replacement is only "
            "possible when the device is broken beyond repair.",
        ]),
        ("Lost or stolen devices", [
            "Report a lost or stolen laptop or phone to the IT service desk immediately, and "
            "within 24 hours at the latest, so the device can be wiped remotely. Also file a "
            "police report when a device was stolen.",
        ]),
        ("Personal devices", [
            "You may read work e-mail on your own phone only after installing the Intune "
            "company portal app. Company data must never be stored on personal computers.",
        ]),
        ("Software", [
            "Only software from the company software centre may be installed. Request other "
            "software through the service desk; IT security reviews it within five working "
            "days.",
        ]),
    ]),
    Document("onboarding.md", "Onboarding Guide for New Employees", [
        ("Welcome", [
            "Welcome to Northwind Labs! This guide helps you through your first weeks. Your "
            "manager and your onboarding buddy will help you with anything it does not answer.",
        ]),
        ("Your first day", [
            "On your first day, come to the reception at 9:00. Bring your passport or ID card "
            "so HR can copy it for your employment file. Reception hands out your staff badge "
            "and your laptop.",
        ]),
        ("Your onboarding buddy", [
            "Every new employee is paired with an onboarding buddy from another team for the "
            "first three months. Your buddy invites you to lunch in your first week and "
            "answers the questions you would rather not ask your manager.",
        ]),
        ("Accounts and access", [
            "Your accounts are created before you start. Set your password and enrol in "
            "multi-factor authentication during the IT welcome session at 11:00 on your first "
            "day.",
        ]),
        ("Probation period", [
            "The probation period lasts six months. Your manager holds check-in talks after "
            "one, three and five months, and confirms your employment in writing at the end "
            "of probation.",
        ]),
    ]),
    Document("leave-policy.pdf", "Leave Policy", [
        ("Annual leave", [
            "Full-time employees are entitled to 28 days of annual leave per year, plus public "
            "holidays. Part-time employees receive leave in proportion to their working days "
            "per week.",
            "Request leave in the HR portal at least two weeks in advance for absences longer "
            "than three days.",
        ]),
        ("Carrying over leave", [
            "Up to five unused leave days can be carried over into the next year. Carried-over "
            "days must be taken by 31 March, after which they expire.",
        ]),
        ("Sick leave", [
            "If you are ill, tell your manager before 10:00 on the first day of absence. From "
            "the fourth day of illness in a row, a doctor's certificate is required.",
        ]),
        ("Parental leave", [
            "Birthing parents receive 20 weeks of paid maternity leave. The other parent "
            "receives six weeks of paid partner leave, to be taken within the first year after "
            "the birth or adoption.",
        ]),
        ("Special leave", [
            "You receive two days of special leave for your wedding, and up to three days for "
            "the death of a close relative. Moving house gives one day of special leave per "
            "year.",
        ]),
    ]),
    Document("remote-work.txt", "Remote Work Policy", [
        ("Hybrid working", [
            "Employees may work remotely up to three days per week, in agreement with their "
            "manager. Teams agree on at least one shared office day per week.",
        ]),
        ("Core hours", [
            "Whether at home or in the office, be available between 10:00 and 15:00 on "
            "working days. Outside core hours, plan your own time.",
        ]),
        ("Home office allowance", [
            "Remote workers receive a one-off home office allowance of 600 euros for a desk, "
            "chair and lighting, and a monthly internet contribution of 25 euros.",
        ]),
        ("Working from abroad", [
            "Working from another country is allowed for at most 20 working days per calendar "
            "year and must be approved by HR in advance, because of tax and social security "
            "rules.",
        ]),
        ("Security at home", [
            "Lock your screen whenever you leave your device and do not let family members "
            "use your work laptop. Use the company VPN on public networks.",
        ]),
    ]),
    Document("code-of-conduct.pdf", "Code of Conduct", [
        ("Our values", [
            "We act with integrity, treat each other with respect and keep our promises to "
            "customers. This code applies to everyone who works for or with Northwind Labs.",
        ]),
        ("Gifts and hospitality", [
            "You may accept gifts from business partners worth up to 50 euros per year per "
            "partner. Register every gift above that value with the compliance officer and "
            "never accept cash.",
        ]),
        ("Conflicts of interest", [
            "Tell your manager about any side job, investment or family relationship that "
            "could influence your decisions at work. Side jobs for competitors are not "
            "allowed.",
        ]),
        ("Harassment", [
            "Harassment and discrimination are never tolerated. Report incidents to your "
            "manager, to HR or anonymously through the SpeakUp line, which is run by an "
            "independent provider.",
        ]),
        ("Insider information", [
            "Do not trade shares of Northwind Labs or its customers while you know price-"
            "sensitive information that is not public.",
        ]),
    ]),
    Document("benefits-guide.pdf", "Employee Benefits Guide", [
        ("Pension", [
            "The company matches your pension contributions up to 6 percent of your gross "
            "salary. You join the pension plan automatically on your first working day.",
        ]),
        ("Health insurance", [
            "Northwind Labs pays 70 percent of the premium of the collective health insurance "
            "for you and your children. Sign up within 30 days of joining.",
        ]),
        ("Fitness", [
            "Employees get a discounted gym membership at SportCity for 19 euros per month, "
            "and the company sports day is held every September.",
        ]),
        ("Employee assistance", [
            "The employee assistance programme offers six free confidential counselling "
            "sessions per year, by phone or in person, for personal or work problems.",
        ]),
        ("Bonus", [
            "The annual bonus depends on company results and your performance rating, and is "
            "paid in April for the previous year.",
        ]),
    ]),
    Document("information-security.md", "Information Security Rules", [
        ("Passwords", [
            "Passwords must be at least 14 characters long. Use the company password manager "
            "and never reuse a work password on another site.",
        ]),
        ("Multi-factor authentication", [
            "Multi-factor authentication is mandatory for e-mail, the VPN and every cloud "
            "application. Use the Authenticator app; text messages are not accepted as a "
            "second factor.",
        ]),
        ("Phishing", [
            "Forward suspicious e-mails with the Report Phishing button in Outlook. Never "
            "click links in a message that asks for your password.",
        ]),
        ("Clean desk", [
            "Leave no confidential papers on your desk at the end of the day. Put them in the "
            "locked shredder bins on every floor.",
        ]),
        ("Classifying information", [
            "Label documents as public, internal, confidential or secret. Secret documents "
            "may only be shared with people named by the document owner.",
        ]),
    ]),
    Document("holidays-and-office-hours.html", "Holidays and Office Hours", [
        ("Office opening hours", [
            "The office building is open from 7:00 to 20:00 on weekdays. Outside these hours "
            "and at weekends, your badge opens only the side entrance.",
        ]),
        ("Company holidays", [
            "Besides public holidays, the office is closed on the day after Ascension Day and "
            "between Christmas and New Year. Those days do not count as annual leave.",
        ]),
        ("Summer hours", [
            "In July and August, the office closes at 17:00 on Fridays.",
        ]),
    ]),
    Document("learning-and-development.docx", "Learning and Development", [
        ("Training budget", [
            "Every employee has a personal training budget of 1,500 euros per year for "
            "courses, certifications and books. Unused budget does not carry over.",
        ]),
        ("Conferences", [
            "You may attend one external conference per year on company time. The conference "
            "ticket and travel are paid from your training budget; ask your manager first.",
        ]),
        ("Study leave", [
            "For a certification exam you receive one day of study leave per exam, up to three "
            "days per year.",
        ]),
        ("Repayment", [
            "If you leave the company within one year after a course that cost more than "
            "2,000 euros, you repay part of the cost on a sliding scale.",
        ]),
    ]),
    Document("office-facilities.txt", "Office Facilities", [
        ("Meeting rooms", [
            "Book meeting rooms in Outlook by adding the room as an attendee. Rooms booked "
            "but unused for 15 minutes are released automatically.",
        ]),
        ("Kitchen and lunch", [
            "Lunch is served in the canteen on the ground floor from 11:30 to 14:00. Coffee, "
            "tea and fruit are free on every floor.",
        ]),
        ("Lost and found", [
            "Items found in the building are kept at reception for one month, then donated to "
            "charity.",
        ]),
        ("Printing", [
            "Print with your badge at any printer: jobs are held until you tap your badge. "
            "Print in colour only when needed.",
        ]),
        ("Reporting a problem", [
            "Report broken lights, heating problems or leaks through the Facilities portal; "
            "urgent issues can be phoned to extension 4400.",
        ]),
    ]),
    Document("performance-reviews.md", "Performance Reviews", [
        ("Review cycle", [
            "Performance reviews take place twice a year: a mid-year check-in in June and the "
            "annual review in December.",
        ]),
        ("Ratings", [
            "The annual review ends with one of four ratings: exceeds expectations, meets "
            "expectations, partly meets expectations or does not meet expectations.",
        ]),
        ("Promotions", [
            "Promotions are decided once a year in January by the promotion committee, based "
            "on the December review and a written nomination by your manager.",
        ]),
        ("Salary increases", [
            "Salary increases follow the annual review and take effect on 1 April.",
        ]),
    ]),
    Document("data-protection.txt", "Data Protection at Northwind Labs", [
        ("Personal data of customers", [
            "Collect only the personal data you need for the task. Customer records are kept "
            "for seven years after the end of the contract and then deleted.",
        ]),
        ("Requests from individuals", [
            "Forward any request from a person who wants to see, correct or delete their data "
            "to privacy@northwind.example within two working days. We must answer within one "
            "month.",
        ]),
        ("Data breaches", [
            "Report a suspected data breach to the privacy team at once. The company must "
            "notify the supervisory authority within 72 hours of becoming aware of it.",
        ]),
        ("Sharing with suppliers", [
            "Personal data may only be shared with suppliers that have signed a data "
            "processing agreement reviewed by Legal.",
        ]),
    ]),
]


QUESTIONS: list[Question] = [
    Question("travel-policy.md", "65 euros for each full day",
             "What is the per diem when I travel abroad?",
             "How much daily allowance do I get for food on a trip to another country?",
             "per diem abroad"),
    Question("travel-policy.md", "Business class is allowed only",
             "When is business class allowed for flights?",
             "Can I fly in a premium cabin on a long-haul journey?",
             "business class"),
    Question("travel-policy.md", "capped at 180 euros per night",
             "How much can a hotel stay cost per night?",
             "What is the maximum accommodation price for one evening when I am away?",
             "hotel limit"),
    Question("travel-policy.md", "0.30 euros per kilometre",
             "How is mileage reimbursed if I drive my own car?",
             "What do I get back for using my private automobile for work journeys?",
             "mileage rate"),
    Question("expense-reimbursement.docx", "within 30 days of the expense",
             "How soon must I submit an expense claim?",
             "What is the deadline for handing in costs I paid myself?",
             "claim deadline"),
    Question("expense-reimbursement.docx", "Claims above 500 euros",
             "Who approves claims above 500 euros?",
             "Who has to sign off a large reimbursement request?",
             "claim approval"),
    Question("expense-reimbursement.docx", "up to 80 euros per person",
             "How much are meals with clients reimbursed?",
             "What is the spending limit when I take a customer out to dinner?",
             "client dinner"),
    Question("parking.txt", "cost 40 euros per month",
             "How much does a parking permit cost?",
             "What is the price of a spot in the staff garage?",
             "parking permit"),
    Question("parking.txt", "Charging is free for employees",
             "Is charging free for electric cars?",
             "Do I pay to top up my EV at the office?",
             "ev charging"),
    Question("parking.txt", "50 percent of an annual public transport pass",
             "Does the company pay for a public transport pass?",
             "Is there a contribution towards my yearly train and bus season ticket?",
             "transport pass"),
    Question("it-equipment.docx", "Laptops are replaced every three years",
             "How often are laptops replaced?",
             "When do I get a new notebook computer?",
             "laptop refresh"),
    Question("it-equipment.docx", "within 24 hours at the latest",
             "What do I do when my laptop is lost or stolen?",
             "My work computer disappeared from my bag on the train, what now?",
             "stolen laptop"),
    Question("it-equipment.docx", "Intune company portal app",
             "Can I read work e-mail on my own phone?",
             "May I check my mailbox on a private mobile?",
             "email on personal phone"),
    Question("onboarding.md", "Bring your passport or ID card",
             "What should I bring on my first day?",
             "Which documents do I need to take with me when I start the job?",
             "first day"),
    Question("onboarding.md", "probation period lasts six months",
             "How long does the probation period last?",
             "How long is the trial period for a new hire?",
             "probation"),
    Question("onboarding.md", "paired with an onboarding buddy",
             "Who is my onboarding buddy?",
             "Will someone from another team mentor me when I join?",
             "onboarding buddy"),
    Question("leave-policy.pdf", "28 days of annual leave per year",
             "How many days of annual leave do I get per year?",
             "How much paid vacation time are full-time staff entitled to?",
             "annual leave days"),
    Question("leave-policy.pdf", "Up to five unused leave days can be carried over",
             "Can unused leave days be carried over into the next year?",
             "Do holidays I did not take roll over to January?",
             "carry over leave"),
    Question("leave-policy.pdf", "doctor's certificate is required",
             "When is a doctor's certificate required for sick leave?",
             "From when do I need a medical note if I am ill?",
             "sick note"),
    Question("leave-policy.pdf", "six weeks of paid partner leave",
             "How much paid partner leave does the other parent receive?",
             "How long can a father stay home after the baby is born?",
             "paternity leave"),
    Question("remote-work.txt", "work remotely up to three days per week",
             "How many days per week can I work remotely?",
             "How often am I allowed to do my job from home?",
             "remote days"),
    Question("remote-work.txt", "one-off home office allowance of 600 euros",
             "Is there a home office allowance for remote workers?",
             "Will the company pay for a desk and chair for my house?",
             "home office allowance"),
    Question("remote-work.txt", "at most 20 working days per calendar year",
             "Can I work from another country?",
             "Am I allowed to do my job from a holiday destination overseas?",
             "working abroad"),
    Question("code-of-conduct.pdf", "worth up to 50 euros per year per partner",
             "May I accept gifts from business partners?",
             "A supplier sent me a present, can I keep it?",
             "gifts"),
    Question("code-of-conduct.pdf", "anonymously through the SpeakUp line",
             "How do I report harassment?",
             "Where can I complain confidentially about a colleague bullying me?",
             "report harassment"),
    Question("benefits-guide.pdf", "matches your pension contributions up to 6 percent",
             "How much does the company match of my pension contributions?",
             "Does my employer add money to my retirement savings?",
             "pension match"),
    Question("benefits-guide.pdf", "six free confidential counselling sessions",
             "How many counselling sessions does the employee assistance programme offer?",
             "Can I talk to a therapist for free if I am struggling?",
             "counselling"),
    Question("information-security.md", "at least 14 characters long",
             "How long must passwords be?",
             "What is the minimum length of my login secret?",
             "password length"),
    Question("information-security.md", "Report Phishing button",
             "How do I report suspicious e-mails?",
             "I got a weird message asking for my credentials, what should I do with it?",
             "phishing"),
    Question("holidays-and-office-hours.html", "open from 7:00 to 20:00 on weekdays",
             "When is the office building open?",
             "At what time can I get into the building in the morning?",
             "opening hours"),
    Question("learning-and-development.docx", "training budget of 1,500 euros per year",
             "How big is my personal training budget?",
             "How much money can I spend on courses and education each year?",
             "training budget"),
    Question("learning-and-development.docx", "one external conference per year",
             "May I attend an external conference?",
             "Can I go to an industry event on work time?",
             "conference"),
    Question("office-facilities.txt", "Lunch is served in the canteen",
             "When is lunch served in the canteen?",
             "What time can I get a midday meal at work?",
             "lunch hours"),
    Question("office-facilities.txt", "kept at reception for one month",
             "What happens to items found in the building?",
             "I forgot my umbrella somewhere in the office, where do I look for it?",
             "lost and found"),
    Question("performance-reviews.md", "decided once a year in January",
             "When are promotions decided?",
             "When can I move up to a more senior job?",
             "promotion"),
    Question("performance-reviews.md", "take effect on 1 April",
             "When do salary increases take effect?",
             "From which month is my raise in pay applied?",
             "salary increase"),
    Question("data-protection.txt", "within 72 hours of becoming aware",
             "When must the company notify the supervisory authority of a data breach?",
             "How quickly do we tell the regulator about leaked customer information?",
             "data breach"),
    Question("data-protection.txt", "kept for seven years after the end of the contract",
             "How long are customer records kept?",
             "For how many years do we store client files before deleting them?",
             "customer data retention"),
]

PHRASINGS = ("words", "paraphrase", "short")

# Questions the documents do not answer: nothing should be cited.
UNRELATED = [
    "What is the capital of Australia?",
    "Write me a haiku about autumn leaves.",
    "How do I bake sourdough bread?",
    "Who won the football world cup in 2010?",
    "Explain quantum entanglement simply.",
    "What is the weather like tomorrow?",
    # ...some sharing common words with the documents
    "How many days are there in a leap year?",
    "What time does the football match start on TV tonight?",
    "Can you recommend a good book about Roman history?",
    "How do I change a flat tyre on my bike?",
    "What is the per capita income of Brazil?",
    "Translate 'good morning' into Spanish.",
]


# ----------------------------------------------------------------- renderers

def as_markdown(document: Document) -> str:
    parts = [f"# {document.title}\n"]
    for heading, paragraphs in document.sections:
        parts.append(f"## {heading}\n")
        parts.extend(f"{paragraph}\n" for paragraph in paragraphs)
    return "\n".join(parts)


def as_text(document: Document) -> str:
    """Plain text as people write it: a title line, heading lines, paragraphs."""
    parts = [document.title.upper(), ""]
    for heading, paragraphs in document.sections:
        parts += [heading, ""]
        for paragraph in paragraphs:
            parts += [paragraph, ""]
    return "\n".join(parts)


def as_html(document: Document) -> str:
    body = [f"<h1>{html.escape(document.title)}</h1>"]
    for heading, paragraphs in document.sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        body.extend(f"<p>{html.escape(paragraph)}</p>" for paragraph in paragraphs)
    return (f"<!doctype html><html><head><title>{html.escape(document.title)}</title>"
            f"</head><body>{''.join(body)}</body></html>")


def as_docx(document: Document) -> bytes:
    from tests.knowledge.fixtures_documents import DocxBlock, make_docx

    blocks = [DocxBlock("heading", document.title, level=1)]
    for heading, paragraphs in document.sections:
        blocks.append(DocxBlock("heading", heading, level=2))
        blocks.extend(DocxBlock("paragraph", paragraph) for paragraph in paragraphs)
    return make_docx(blocks)


def as_pdf(document: Document) -> bytes:
    """One page per section, each with a bookmark (as exported from Word)."""
    from tests.knowledge.fixtures_documents import PdfPage, _wrap, make_pdf

    pages = []
    for number, (heading, paragraphs) in enumerate(document.sections):
        lines = [document.title, ""] if number == 0 else []
        lines.append(heading)
        for paragraph in paragraphs:
            lines += _wrap(paragraph, width=90) + [""]
        pages.append(PdfPage(lines=lines, bookmarks=[heading], draw_heading=False))
    return make_pdf(pages)


def render(document: Document, *, extension: str | None = None) -> bytes:
    extension = extension or document.name.rsplit(".", 1)[1]
    if extension == "md":
        return as_markdown(document).encode()
    if extension == "txt":
        return as_text(document).encode()
    if extension == "html":
        return as_html(document).encode()
    if extension == "docx":
        return as_docx(document)
    if extension == "pdf":
        return as_pdf(document)
    raise ValueError(extension)


def check_corpus(documents: list[Document], questions: list[Question]) -> None:
    """Each answer phrase lives in exactly one paragraph of its own file."""
    names = {document.name for document in documents}
    for question in questions:
        assert question.file in names, question.file
        holders = [(document.name, heading) for document in documents
                   for heading, paragraphs in document.sections
                   for paragraph in paragraphs if question.answer in paragraph]
        assert len(holders) == 1 and holders[0][0] == question.file, (question.answer, holders)


def check() -> None:
    check_corpus(DOCUMENTS, QUESTIONS)


check()
