"""The stylesheet inlined into taskcat's HTML report, so the report needs no internet.

taskcat 0.9.58 downloads its stylesheet from GitHub at report time; this is mirror-infra's own
sheet for the same class names (header-table-fill, table-fill, test-green, test-red, ...).
"""

from __future__ import annotations

REPORT_CSS = """\
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em;
       color: #1d2733; background: #f6f8fa; }
a { color: #0b63ce; text-decoration: none; }
a:hover { text-decoration: underline; }
.header-table-fill, .table-fill { width: 100%; border-collapse: collapse; background: #fff;
       box-shadow: 0 1px 3px rgba(0, 0, 0, 0.12); }
.header-table-fill td { padding: 1em; vertical-align: top; }
.taskcat-logo { text-align: right; }
.taskcat-logo h3 { font-size: 1.6em; margin: 0; color: #232f3e; }
.table-fill th { background: #232f3e; color: #fff; padding: 0.6em; font-weight: 600; }
.table-fill td { padding: 0.6em; border-bottom: 1px solid #e1e4e8; }
.text-left { text-align: left; }
.text-center { text-align: center; }
.test-info h3 { margin: 0; font-size: 1em; }
.test-green { background: #dcffe4; color: #165c26; font-weight: 600; }
.test-red { background: #ffdce0; color: #86181d; font-weight: 600; }
.test-footer td { background: #f6f8fa; color: #586069; font-size: 0.85em; }
"""
