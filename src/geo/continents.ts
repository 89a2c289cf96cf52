/**
 * ISO 3166-1 alpha-2 country code → continent code. Assignments follow GeoNames, which MaxMind
 * uses for `continent.code`, so a flat (country-only) database places a client on the same
 * continent a City/Country database would (RU → EU, TR → AS, EG → AF, PA → NA, TL → OC).
 */

/** The seven continent codes used by GeoNames and MaxMind. */
export type ContinentCode = 'AF' | 'AN' | 'AS' | 'EU' | 'NA' | 'OC' | 'SA';

/** All continent codes, in alphabetical order. */
export const CONTINENT_CODES: readonly ContinentCode[] = Object.freeze(['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA']);

// Grouped by continent to make review easier; XK (Kosovo) is user-assigned but used by GeoNames/MaxMind.
const BY_CONTINENT: Readonly<Record<ContinentCode, string>> = {
  AF:
    'AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ ' +
    'NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW',
  AN: 'AQ BV GS HM TF',
  AS:
    'AE AF AM AZ BD BH BN BT CC CN GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO MV MY NP ' +
    'OM PH PK PS QA SA SG SY TH TJ TM TR TW UZ VN YE',
  EU:
    'AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ' +
    'ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK',
  NA:
    'AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR SV SX ' +
    'TC TT US VC VG VI',
  OC: 'AS AU CK CX FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TL TO TV UM VU WF WS',
  SA: 'AR BO BR CL CO EC FK GF GY PE PY SR UY VE',
};

const TABLE: ReadonlyMap<string, ContinentCode> = new Map(
  CONTINENT_CODES.flatMap((continent) => BY_CONTINENT[continent].split(' ').map((c) => [c, continent] as const)),
);

/** Every country code in the table → its continent (a frozen copy, for listing and validation messages). */
export const COUNTRY_CONTINENTS: Readonly<Record<string, ContinentCode>> = Object.freeze(Object.fromEntries(TABLE));

/** The continent of an upper-case ISO 3166-1 alpha-2 code, or undefined when the code is unknown. */
export function continentOf(country: string): ContinentCode | undefined {
  return TABLE.get(country);
}

/** Whether `code` is an upper-case ISO 3166-1 alpha-2 country code (or XK) in the table. */
export function isKnownCountryCode(code: string): boolean {
  return TABLE.has(code);
}

/** Whether `code` is one of AF AN AS EU NA OC SA (upper case). */
export function isKnownContinentCode(code: string): code is ContinentCode {
  return (CONTINENT_CODES as readonly string[]).includes(code);
}
