from django.http import FileResponse, Http404

from evidence.models import Evidence


def evidence_file_response(evidence: Evidence) -> FileResponse:
    """The evidence's file as a download (the caller has checked permissions)."""
    if not evidence.file:
        raise Http404("This evidence has no file.")
    # Never rendered inline: an uploaded .html or .svg must not run as one of our pages.
    response = FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.file_name)
    response["Content-Type"] = "application/octet-stream"
    return response
