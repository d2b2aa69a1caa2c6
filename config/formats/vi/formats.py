# Django's Vietnamese formats leave numbers ungrouped; agencies write 12.500.000 ₫.
NUMBER_GROUPING = 3
