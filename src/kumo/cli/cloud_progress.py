"""Progress of the cloud step on stderr. Its own module: only `kumo cloud ...` loads the AWS client."""

from __future__ import annotations

from kumo.cli.output import err_console
from kumo.cloud.aws import Reporter as CloudReporter


class CloudCliReporter(CloudReporter):
    def line(self, text: str) -> None:
        err_console.print(text, soft_wrap=True, markup=False)
