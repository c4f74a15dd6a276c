"""Reading museum exports into validated painting records, without touching the database.

``sources`` finds manifests and their mappings, ``manifest`` reads rows, ``records`` validates
one row, ``dates`` parses free-text dates, ``images`` checks, normalises and fetches images.
``runner.catalogue_import`` writes the result (``writer`` one batch, ``image_fields`` its
images, ``lock`` keeps it to one import at a time).
"""
