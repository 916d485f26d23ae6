#!/usr/bin/env python3
"""Write the compact territory CSV files and SOURCE.md from an extracted
@etalab/decoupage-administratif package.

regenerate.sh downloads and verifies the package, then runs this script. It
uses only the standard library. Every check raises PackageDataError before
any file is written, because the Rust loader in
crates/domain/src/territory.rs rejects files that disagree with each other.
"""

import argparse
import csv
import json
import sys
from pathlib import Path

CURRENT_COMMUNE_TYPE = "commune-actuelle"

COMMUNES_HEADER = ["code_insee", "nom", "departement", "epci", "population"]
EPCI_HEADER = ["code", "nom", "population"]
DEPARTEMENTS_HEADER = ["code", "nom", "region", "population"]


class PackageDataError(Exception):
    """Package data that breaks an assumption of the CSV format."""


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--package-dir",
        type=Path,
        required=True,
        help="folder of the extracted npm tarball (contains package.json and data/)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        required=True,
        help="folder that receives communes.csv, epci.csv, departements.csv and SOURCE.md",
    )
    parser.add_argument(
        "--integrity",
        required=True,
        help="verified npm integrity string of the tarball (sha512-...)",
    )
    parser.add_argument(
        "--generated-on",
        required=True,
        help="generation date written into SOURCE.md, as YYYY-MM-DD",
    )
    return parser.parse_args()


def load_json(path):
    with path.open(encoding="utf-8") as file:
        return json.load(file)


def read_copyright_line(license_path):
    for line in license_path.read_text(encoding="utf-8").splitlines():
        if line.strip().lower().startswith("copyright"):
            return line.strip()
    raise PackageDataError(f"{license_path}: no line starting with 'Copyright'")


def check_population(value, where):
    """Return the population as an int, or None when the package has none."""
    if value is None:
        return None
    # bool is a subclass of int in Python, so it is rejected explicitly.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PackageDataError(f"{where}: population {value!r} is not a non-negative integer")
    return value


def select_current_communes(communes):
    """Return the current communes keyed by INSEE code.

    The other types in communes.json (commune-deleguee, commune-associee,
    arrondissement-municipal) are parts of a current commune, and their
    population is already counted in it.
    """
    current = {}
    for record in communes:
        if record["type"] != CURRENT_COMMUNE_TYPE:
            continue
        code = record["code"]
        if code in current:
            raise PackageDataError(f"communes.json: commune {code} is listed twice")
        if not code.startswith(record["departement"]):
            raise PackageDataError(
                f"communes.json: commune {code} does not start with its departement code "
                f"{record['departement']}"
            )
        current[code] = {
            "code": code,
            "nom": record["nom"],
            "departement": record["departement"],
            "epci": "",
            "population": check_population(record.get("population"), f"communes.json {code}"),
        }
    if not current:
        raise PackageDataError(f"communes.json: no commune of type {CURRENT_COMMUNE_TYPE}")
    return current


def assign_epci(current, epcis):
    """Set each member commune's EPCI and return the package's EPCI population by code."""
    package_populations = {}
    for epci in epcis:
        code = epci["code"]
        if len(code) != 9 or not code.isdigit():
            raise PackageDataError(f"epci.json: code {code!r} is not a 9-digit SIREN")
        if code in package_populations:
            raise PackageDataError(f"epci.json: EPCI {code} is listed twice")
        package_populations[code] = epci.get("populationMunicipale")
        for member in epci["membres"]:
            commune = current.get(member["code"])
            if commune is None:
                raise PackageDataError(
                    f"epci.json: member {member['code']} of EPCI {code} is not a current commune"
                )
            if commune["epci"]:
                raise PackageDataError(
                    f"epci.json: commune {member['code']} is a member of both "
                    f"{commune['epci']} and {code}"
                )
            commune["epci"] = code
    return package_populations


def sum_populations(communes, key):
    """Sum municipal populations by the value of `key`, counting a missing one as 0."""
    totals = {}
    for commune in communes.values():
        group = commune[key]
        if group:
            totals[group] = totals.get(group, 0) + (commune["population"] or 0)
    return totals


def write_csv(path, header, rows):
    # newline="" hands line endings to the csv module, which writes "\n" here.
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)


def format_population(population):
    return "" if population is None else str(population)


def write_source_notes(path, facts):
    # One sentence per line, so numbers of any width never break the layout.
    text = f"""# Source of the territory files

The CSV files in this folder are derived from the npm package `{facts['name']}`, version {facts['version']}, by `scripts/territories/regenerate.sh`.
Do not edit them by hand: change the script and regenerate.

## Package

| fact | value |
| --- | --- |
| package | `{facts['name']}` |
| version | {facts['version']} |
| tarball integrity (npm `dist.integrity`) | `{facts['integrity']}` |
| generated on | {facts['generated_on']} |

## Licence

The package declares the MIT licence in `package.json`.
Its `LICENSE` file is the MIT licence with the line:

    {facts['copyright']}

The package README states that the code is under MIT and that the data is under the Licence Ouverte (Etalab Open Licence), without naming a version.
It names its upstream sources: INSEE's official geographic code (COG) and legal populations, and the DGCL list of EPCI with their own tax system (EPCI à fiscalité propre).

## What was kept

- `communes.csv`: the {facts['commune_count']} records of type `{CURRENT_COMMUNE_TYPE}` (current communes) out of {facts['package_commune_count']} records in `data/communes.json`.
  Delegated and associated communes and the municipal arrondissements of Paris, Lyon and Marseille are left out, because they are parts of a current commune and their population is counted in it.
  Communes of the overseas collectivities (département codes 975 to 989) are kept.
  Columns: `code_insee`, `nom`, `departement`, `epci`, `population`.
  `epci` is the SIREN of the EPCI that the commune is a member of, empty for the {facts['communes_without_epci']} communes that are members of none.
  `population` is the municipal population, empty for the {facts['communes_without_population']} communes that the package gives none.
- `epci.csv`: the {facts['epci_count']} EPCI of `data/epci.json`.
  Columns: `code` (SIREN), `nom`, `population`.
- `departements.csv`: the {facts['departement_count']} départements and overseas collectivities of `data/departements.json`.
  Columns: `code`, `nom`, `region` (region code), `population`.

All files are UTF-8, comma separated with quotes only where a value needs them, with LF line endings and one header line.
Rows are sorted by code as strings, so 2A and 2B follow 29, and 971 to 989 follow 95.

## How populations were computed

- Commune: the `population` field of `data/communes.json`, which is INSEE's municipal population (population municipale).
  The national total over all current communes, overseas collectivities included, is {facts['national_population']}.
- EPCI: the sum of the municipal populations of its member communes in `communes.csv`.
  The package's own `populationMunicipale` figure in `data/epci.json` comes from the DGCL file, not from the commune records.
  It differs from the sum for {facts['epci_population_differences']} of {facts['epci_count']} EPCI (package total {facts['package_epci_population']}, total of the sums {facts['epci_population']}), so it is not used.
  With the sum, EPCI, département and national figures all come from one set of commune populations.
- Département: the sum of the municipal populations of its communes.
- A commune without a population counts as 0 in every sum.

## Regenerate

    scripts/territories/regenerate.sh

It needs bash, npm, tar and Python 3, and reaches only the npm registry.
"""
    path.write_text(text, encoding="utf-8", newline="\n")


def main():
    arguments = parse_arguments()
    package_dir = arguments.package_dir
    data_dir = package_dir / "data"
    output_dir = arguments.output_dir

    package = load_json(package_dir / "package.json")
    communes = load_json(data_dir / "communes.json")
    epcis = load_json(data_dir / "epci.json")
    departements = load_json(data_dir / "departements.json")

    current = select_current_communes(communes)
    package_epci_populations = assign_epci(current, epcis)

    departement_codes = {record["code"] for record in departements}
    for commune in current.values():
        if commune["departement"] not in departement_codes:
            raise PackageDataError(
                f"communes.json: commune {commune['code']} has unknown departement "
                f"{commune['departement']}"
            )

    copyright_line = read_copyright_line(package_dir / "LICENSE")
    epci_populations = sum_populations(current, "epci")
    departement_populations = sum_populations(current, "departement")

    output_dir.mkdir(parents=True, exist_ok=True)
    write_csv(
        output_dir / "communes.csv",
        COMMUNES_HEADER,
        (
            [c["code"], c["nom"], c["departement"], c["epci"], format_population(c["population"])]
            for c in sorted(current.values(), key=lambda c: c["code"])
        ),
    )
    write_csv(
        output_dir / "epci.csv",
        EPCI_HEADER,
        (
            [e["code"], e["nom"], epci_populations.get(e["code"], 0)]
            for e in sorted(epcis, key=lambda e: e["code"])
        ),
    )
    write_csv(
        output_dir / "departements.csv",
        DEPARTEMENTS_HEADER,
        (
            [d["code"], d["nom"], d["region"], departement_populations.get(d["code"], 0)]
            for d in sorted(departements, key=lambda d: d["code"])
        ),
    )

    epci_population_differences = sum(
        1
        for code, package_population in package_epci_populations.items()
        if package_population != epci_populations.get(code, 0)
    )
    facts = {
        "name": package["name"],
        "version": package["version"],
        "integrity": arguments.integrity,
        "generated_on": arguments.generated_on,
        "copyright": copyright_line,
        "commune_count": len(current),
        "package_commune_count": len(communes),
        "communes_without_epci": sum(1 for c in current.values() if not c["epci"]),
        "communes_without_population": sum(1 for c in current.values() if c["population"] is None),
        "epci_count": len(epcis),
        "departement_count": len(departements),
        "national_population": sum(c["population"] or 0 for c in current.values()),
        "epci_population": sum(epci_populations.values()),
        "package_epci_population": sum(p or 0 for p in package_epci_populations.values()),
        "epci_population_differences": epci_population_differences,
    }
    write_source_notes(output_dir / "SOURCE.md", facts)

    for name in ["communes.csv", "epci.csv", "departements.csv", "SOURCE.md"]:
        size = (output_dir / name).stat().st_size
        print(f"wrote {output_dir / name} ({size} bytes)")
    print(
        f"{facts['commune_count']} communes, {facts['epci_count']} EPCI, "
        f"{facts['departement_count']} departements, "
        f"national population {facts['national_population']}"
    )


if __name__ == "__main__":
    try:
        main()
    except PackageDataError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
