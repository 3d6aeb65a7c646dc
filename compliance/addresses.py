"""Postal addresses and postal codes as people write them in Korea, Japan,
the US and the UK.

Rules, not a model: an address has a shape each country's post office
defines, and the parts that make it certain (a road name with a building
number, 丁目/番地, a street type after a house number, a postcode's letters
and digits) are what these patterns require. Bare numbers that may be a
postal code (five digits, "123-4567") count only next to a cue word or an
address.

Precision rules, measured with bench/redaction.py on look-alike sentences:
a Korean word ending in 로 is often a particle ("회의실로 3시까지"), so a road
name needs a province, city or district before it or a building number that
is not followed by a counter (시, 명, 개, 건...); an English street needs a
house number and a capitalised street name before the street type.
"""

from __future__ import annotations

import re

__all__ = ["find_addresses"]

_H = "\uac00-\ud7a3"

# --- Korea ---------------------------------------------------------------------------

_KR_PROVINCE = (
    "서울특별시|서울시|서울|부산광역시|부산시|부산|대구광역시|대구시|대구|인천광역시|인천시|인천|"
    "광주광역시|광주시|광주|대전광역시|대전시|대전|울산광역시|울산시|울산|세종특별자치시|세종시|세종|"
    "경기도|경기|강원특별자치도|강원도|강원|충청북도|충북|충청남도|충남|전북특별자치도|전라북도|전북|"
    "전라남도|전남|경상북도|경북|경상남도|경남|제주특별자치도|제주도|제주"
)
_KR_UNIT = rf"[{_H}]{{1,6}}(?:시|군|구)"
_KR_TOWN = rf"[{_H}0-9]{{1,8}}(?:읍|면|동|리|가)"
_KR_ROAD = rf"[{_H}0-9]{{1,12}}(?:대로|로|길|거리)(?:\s?\d{{1,4}}(?:번)?(?:길|가길))?"
_KR_NUMBER = r"(?:지하\s?)?\d{1,5}(?:-\d{1,5})?"
_KR_COUNTERS = (
    "시|분|초|명|개|건|원|년|월|일|주|번째|회|차|대|장|권|배|층수|퍼센트|kg|km|%|세|살|곳|가지|호선|등"
)
# After the number: a building name, then its block, floor and unit
# ("강남파이낸스센터 20층", "101동 1203호"), or the town and building in brackets.
_KR_DETAIL = (
    rf"(?:,?\s?(?:[{_H}A-Za-z]{{2,15}}\s?)?(?=\d{{1,5}}(?:동|층|호))"
    rf"(?:\d{{1,4}}동\s?)?(?:\d{{1,3}}층\s?)?(?:\d{{1,5}}호)?)?"
    rf"(?:\s?\([{_H}A-Za-z0-9,\s]{{1,30}}\))?"
)
_KR_POSTCODE = r"(?<!\d)\d{5}(?!\d)"

_KR_ADDRESS = re.compile(
    # an optional postal code before the address: "(06236) 서울특별시 ...", "06236 서울 ..."
    rf"(?:\(?{_KR_POSTCODE}\)?\s?)?"
    rf"(?<![{_H}])(?:"
    # with a province or city first, the rest may be road- or lot-based
    rf"(?:{_KR_PROVINCE})(?:\s?{_KR_UNIT}){{0,3}}(?:\s?{_KR_TOWN}){{0,2}}"
    rf"(?:\s?(?:{_KR_ROAD}\s?{_KR_NUMBER}(?:번지)?|(?:산\s?)?{_KR_NUMBER}(?:번지)?))"
    # a city, county or district first
    rf"|{_KR_UNIT}(?:\s?{_KR_UNIT}){{0,2}}(?:\s?{_KR_TOWN}){{0,2}}"
    rf"\s?(?:{_KR_ROAD}\s?{_KR_NUMBER}|(?:산\s?)?{_KR_NUMBER}(?:번지)?)"
    # a town and lot number: "역삼동 737-32", "역삼동 123번지"
    rf"|{_KR_TOWN}\s?(?:산\s?)?\d{{1,5}}(?:-\d{{1,5}}|번지)(?:-\d{{1,5}})?(?:번지)?"
    # a road name and building number alone: "테헤란로 152", "판교역로 235번길 7"
    rf"|{_KR_ROAD}\s?{_KR_NUMBER}(?![0-9]|\s?(?:{_KR_COUNTERS}))"
    rf"){_KR_DETAIL}"
)
_KR_POSTCODE_CUE = re.compile(
    rf"(?:우편번호|우편\s?번호|\(우\)|우\))\s?(?:은|는|:)?\s?(?P<code>{_KR_POSTCODE})")

# --- Japan ---------------------------------------------------------------------------

_JP_PREFECTURES = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都|"
    "神奈川県|新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府|"
    "大阪府|兵庫県|奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県|"
    "福岡県|佐賀県|長崎県|熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_JP_CHAR = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff々ヶ"
_JP_DIGIT = "0-9０-９一二三四五六七八九十〇"
# Kanji and katakana only: a particle (の, は) ends a place name.
_JP_NAME_CHAR = "\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff々ヶ"
_JP_MUNI = rf"[{_JP_NAME_CHAR}]{{1,6}}?(?:市|区|町|村|郡)"
_JP_BLOCK = (
    rf"(?:[{_JP_DIGIT}]{{1,3}}丁目(?:\s?[{_JP_DIGIT}]{{1,4}}(?:番地?|[-－ー‐]))?"
    rf"(?:\s?[{_JP_DIGIT}]{{1,4}}号?)?"
    rf"|[{_JP_DIGIT}]{{1,4}}番地?(?:\s?[{_JP_DIGIT}]{{1,4}}号?)?"
    rf"|[0-9０-９]{{1,4}}(?:[-－ー‐][0-9０-９]{{1,4}}){{1,2}})"
)
# After the block: a building with its floor or room ("… ビル 5階",
# "クレスト中三依806", "コーポ東神田659").
_JP_BUILDING = (
    rf"(?:\s?[{_JP_CHAR}A-Za-zＡ-Ｚａ-ｚ]{{1,16}}(?:ビル|マンション|ハイツ|タワー|荘|館|棟)"
    rf"(?:\s?[0-9０-９]{{1,4}}(?:階|号室|F)?)?"
    rf"|\s[{_JP_CHAR}A-Za-zＡ-Ｚａ-ｚ]{{1,16}}[0-9０-９]{{1,4}}(?:号室)?(?![0-9０-９]))?"
)
_JP_POSTCODE = r"〒\s?[0-9０-９]{3}[-－ー]?[0-9０-９]{4}"
_JP_ADDRESS = re.compile(
    rf"(?:{_JP_POSTCODE}\s?)?"
    rf"(?:(?:{_JP_PREFECTURES})(?:{_JP_MUNI}){{0,3}}|(?:{_JP_MUNI}){{1,3}})"
    rf"[{_JP_CHAR}]{{0,16}}?{_JP_BLOCK}{_JP_BUILDING}"
)
_JP_POSTCODE_ALONE = re.compile(_JP_POSTCODE)
_JP_POSTCODE_CUE = re.compile(
    r"郵便番号\s?(?:は|:|：)?\s?(?P<code>[0-9０-９]{3}[-－][0-9０-９]{4})")

# --- US and UK -----------------------------------------------------------------------

# The USPS street suffixes (Publication 28, appendix C1) and their common
# abbreviations, plus British ones (Close, Crescent, Gardens, Mews).
_STREET_TYPES = (
    "Street|Streets|St|Avenue|Ave|Road|Roads|Rd|Boulevard|Blvd|Lane|Ln|Drive|Drives|Dr|"
    "Court|Courts|Ct|Place|Pl|Way|Ways|Terrace|Ter|Parkway|Parkways|Pkwy|Highway|Hwy|Circle|"
    "Circles|Cir|Square|Squares|Sq|Close|Crescent|Cres|Gardens|Garden|Grove|Groves|Mews|Row|"
    "Walk|Walks|Alley|Plaza|Trail|Broadway|Annex|Arcade|Bayou|Beach|Bend|Bluff|Bluffs|Bottom|"
    "Branch|Bridge|Brook|Brooks|Burg|Burgs|Bypass|Camp|Canyon|Cape|Causeway|Center|Centers|"
    "Cliff|Cliffs|Club|Common|Commons|Corner|Corners|Course|Cove|Coves|Creek|Crest|Crossing|"
    "Crossroad|Curve|Dale|Dam|Divide|Estate|Estates|Expressway|Extension|Extensions|Falls|"
    "Fall|Ferry|Field|Fields|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|Forks|Fort|"
    "Freeway|Gateway|Glen|Glens|Green|Greens|Harbor|Harbors|Haven|Heights|Hill|Hills|Hollow|"
    "Inlet|Island|Islands|Isle|Junction|Junctions|Key|Keys|Knoll|Knolls|Lake|Lakes|Land|"
    "Landing|Light|Lights|Loaf|Lock|Locks|Lodge|Loop|Mall|Manor|Manors|Meadow|Meadows|Mill|"
    "Mills|Mission|Motorway|Mount|Mountain|Mountains|Neck|Orchard|Oval|Overpass|Park|Parks|"
    "Pass|Passage|Path|Pike|Pine|Pines|Plain|Plains|Point|Points|Port|Ports|Prairie|Radial|"
    "Ramp|Ranch|Rapid|Rapids|Rest|Ridge|Ridges|River|Route|Rue|Run|Shoal|Shoals|Shore|Shores|"
    "Skyway|Spring|Springs|Spur|Spurs|Station|Stravenue|Stream|Summit|Throughway|Trace|Track|"
    "Trafficway|Trailer|Tunnel|Turnpike|Underpass|Union|Unions|Valley|Valleys|Via|Viaduct|"
    "View|Views|Village|Villages|Ville|Vista|Wall|Well|Wells"
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|"
    "NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|"
    # territories and military post offices
    "AS|FM|GU|MH|MP|PW|PR|VI|AA|AE|AP"
)
_UK_POSTCODE = r"(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2})"
_UK_POSTCODE_TIGHT = r"(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\d[ABD-HJLNP-UW-Z]{2})"
_CAP = r"(?:[A-Z][a-z'’]+|[A-Z]{2,}|\d{1,3}(?:st|nd|rd|th))"
_TOWN = r"[A-Z][a-z'’]+"
_EN_ADDRESS = re.compile(
    # "The 5 Best Street Foods" is a headline, not an address.
    r"(?<![\w#])(?<![Tt]he )(?<![Tt]op )\d{1,6}[A-Za-z]?,?[ \t](?:[NSEW]\.?\s)?"
    rf"(?:{_CAP}\s){{1,3}}(?:{_STREET_TYPES})\b\.?(?:\s(?:NW|NE|SW|SE|N|S|E|W)\b)?"
    r"(?:,?\s(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm|#)\.?\s?#?[A-Za-z0-9\-]{1,6})?"
    # the town ("Springfield", "London", "New York"), then a state and ZIP or a postcode
    rf"(?:,\s(?:{_CAP}\s?){{1,3}}(?=,|\s(?:{_US_STATES})\b|\s{_UK_POSTCODE}|$|\.|\n))?"
    rf"(?:,?\s(?:{_US_STATES})\s\d{{5}}(?:-\d{{4}})?(?!\d))?"
    rf"(?:,?\s{_UK_POSTCODE}(?![A-Za-z0-9]))?"
)
_JP_PREFECTURE_RE = re.compile(_JP_PREFECTURES)
# British flats and studios: "Flat 62\nBarry Track, Longmouth M6W 9QY".
_UK_FLAT = re.compile(
    r"(?<![\w])(?:Flat|Studio|Apartment|Unit)\s[0-9]{1,4}[A-Za-z]?[\n,]\s?"
    rf"(?:{_CAP}\s){{1,3}}(?:{_STREET_TYPES})\b"
    rf"(?:,\s{_TOWN}(?:\s{_TOWN}){{0,2}})?(?:,?\s{_UK_POSTCODE}(?![A-Za-z0-9]))?"
)
_US_STATE_ZIP = re.compile(rf"(?<![A-Za-z])(?:{_US_STATES})\s\d{{5}}(?:-\d{{4}})?(?!\d)")
_ZIP_CUE = re.compile(r"(?i:zip(?:\s?code)?|postal\s?code|postcode)\s?(?:is|:|#)?\s?"
                      rf"(?P<code>\d{{5}}(?:-\d{{4}})?(?!\d)|{_UK_POSTCODE_TIGHT}|{_UK_POSTCODE})")
_UK_POSTCODE_ALONE = re.compile(rf"(?<![A-Za-z0-9]){_UK_POSTCODE}(?![A-Za-z0-9])")


def find_addresses(text: str) -> list[tuple[int, int]]:
    """(start, end) of every address or postal code in ``text`` (may overlap)."""
    spans: list[tuple[int, int]] = []
    for regex in (_KR_ADDRESS, _JP_ADDRESS, _EN_ADDRESS, _UK_FLAT, _US_STATE_ZIP,
                  _JP_POSTCODE_ALONE,
                  _UK_POSTCODE_ALONE):
        for match in regex.finditer(text):
            start, end = match.span()
            while end > start and text[end - 1] in " ,.":
                end -= 1
            if regex is _JP_ADDRESS and not text.startswith("〒", start):
                # "住所東京都港区...": the address starts at its prefecture.
                prefecture = _JP_PREFECTURE_RE.search(text, start, end)
                if prefecture:
                    start = prefecture.start()
            spans.append((start, end))
    for regex in (_KR_POSTCODE_CUE, _JP_POSTCODE_CUE, _ZIP_CUE):
        spans.extend(match.span("code") for match in regex.finditer(text))
    return spans
