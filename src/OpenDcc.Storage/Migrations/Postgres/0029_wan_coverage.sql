-- The SM WAN coverage data the communications service providers publish, as the operator last imported it (opendcc
-- wan coverage import replaces it whole): one entry per post code, sector, district or area, which 12.1 Request WAN
-- Matrix answers from, the most precise entry covering the address's post code.
CREATE TABLE wan_coverage (
    post_codes text PRIMARY KEY,
    csp_region text NOT NULL,
    coverage_available integer NOT NULL,
    anticipated_coverage_date text NULL,
    wan_technology text NOT NULL,
    connectivity_likelihood text NOT NULL,
    auxiliary_equipment_required text NULL,
    additional_information text NULL
);
