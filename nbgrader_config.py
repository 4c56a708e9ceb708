"""nbgrader course configuration: student versions and autograding of the curriculum.

The course notebooks live in notebooks/ and are treated as one nbgrader assignment named
"notebooks" (source directory "." so the assignment folder is notebooks/ itself). Generated
student versions land in build/release/notebooks/, solutions removed and hidden tests stripped:

    nbgrader generate_assignment notebooks --force      # or: make student-versions
"""

from pathlib import Path

c = get_config()  # noqa: F821  (injected by nbgrader when it loads this file)

ROOT = Path(__file__).resolve().parent
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "."
c.CourseDirectory.release_directory = "build/release"
c.CourseDirectory.submitted_directory = "build/submitted"
c.CourseDirectory.autograded_directory = "build/autograded"
c.CourseDirectory.feedback_directory = "build/feedback"
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'build' / 'gradebook.db'}"
# Only the notebooks travel to students; the .py sources would give the solutions away.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.py", "*.md"]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
