"""The whole homework in one report: ``python -m pyimagesearch.report``.

- ``questions``: the homework's questions, the experiments that answer them, their commands and run times.
- ``files``: tolerant readers of what is not a result (logs, dates, figures); strict formatters of numbers.
- ``readers``: one module per problem, turning run folders into report sources.
- ``document``: the report as plain data; ``markdown``: the subset of Markdown the commands write, parsed.
- ``collect``: everything under the output root into one ``Report``; a bad result becomes its caveat.
- ``render_html``, ``render_markdown``: the two renderings; ``runner``: ``--run quick|full``.
- ``results_page``, ``headlines``: ``--results-page``, the measured results page, every number read from the records.
- ``command``: the command line.
"""
