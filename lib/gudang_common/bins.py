"""The bin code, zone-aisle-rack-level-bin (e.g. A-01-02-3-04): one format for the service
that keeps the bins (inventory) and the one that walks them (packing)."""

import re

# plain groups, in that order: the pattern is also published in the OpenAPI description,
# where named groups are not portable
BIN_CODE = re.compile(r"^([A-Z]{1,3})-(\d{2})-(\d{2})-(\d{1,2})-(\d{2})$")
