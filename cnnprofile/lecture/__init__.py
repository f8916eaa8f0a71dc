"""The lecture's own material: its verdicts on the architectures, checked against our numbers (``verdicts``,
``verdict_table``), the zoo's listing (``zoo_table``) and the lecture's comparison report (``report``)."""
