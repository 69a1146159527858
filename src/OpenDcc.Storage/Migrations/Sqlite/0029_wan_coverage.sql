-- The SM WAN coverage data the communications service providers publish, as the operator last imported it (opendcc
-- wan coverage import replaces it whole): one entry per post code, sector, district or area, which 12.1 Request WAN
-- Matrix answers from, the most precise entry covering the address's post code.
CREATE TABLE wan_coverage (
    post_codes TEXT PRIMARY KEY,
    csp_region TEXT NOT NULL,
    coverage_available INTEGER NOT NULL,
    anticipated_coverage_date TEXT NULL,
    wan_technology TEXT NOT NULL,
    connectivity_likelihood TEXT NOT NULL,
    auxiliary_equipment_required TEXT NULL,
    additional_information TEXT NULL
);
