"""grader/quality/: the rubric estimate of a notebook's descriptive quality and the manual overrides."""

from __future__ import annotations

import base64
import io
import itertools
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell
from PIL import Image, ImageDraw

from grader.quality import (
    RUBRIC,
    ManualScore,
    QualityResult,
    assess_quality,
    load_manual_scores,
    load_nbgrader_manual_scores,
)

PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
_figures = itertools.count()


def encode(image: Image.Image, kind: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return base64.b64encode(buffer.getvalue()).decode()


def figure_png() -> str:
    """A small plot-like PNG (axes and a curve), different at each call, as matplotlib would store it."""
    k = next(_figures)
    image = Image.new("RGB", (160, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([10, 10, 150, 110], outline="black")
    draw.line([(12, 100), (60, 40 + k % 50), (148, 20)], fill=(31, 119, 180), width=2)
    return encode(image)


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip())


def code(source: str, count: int | None = None, figure: bool = False, text: str = ""):
    cell = new_code_cell(textwrap.dedent(source).strip(), execution_count=count)
    if text:
        cell.outputs.append(new_output("stream", name="stdout", text=text))
    if figure:
        cell.outputs.append(new_output("display_data", data={"image/png": figure_png(), "text/plain": "<Figure>"}))
    return cell


def explained_notebook():
    """What a good exam notebook looks like: every section has prose, figures and commented code."""
    return new_notebook(cells=[
        md("""
        # Fashion-MNIST under a parameter budget

        ## Problem statement
        The task is to classify 28x28 grey-scale images of clothes into ten classes with a Keras
        model of at most 100k parameters. Success is measured by the accuracy on a hidden test set,
        so my goal is the best accuracy I can reach within the budget and a model that generalizes.
        """),
        code("""
        # The harness overrides these values when it grades the notebook.
        DATA_DIR = "data/public"
        GRADING = False
        """, 1),
        code("""
        import numpy as np
        import matplotlib.pyplot as plt
        x_train = np.load(f"{DATA_DIR}/train_images.npy")  # uint8 images, shape (n, 28, 28)
        y_train = np.load(f"{DATA_DIR}/train_labels.npy")
        """, 2),
        md("""
        ## Data exploration
        We first look at the shapes of the arrays, the distribution of the labels and a few examples
        of each class, to see whether the classes are balanced and how hard they are to tell apart.
        """),
        code("""
        # Count the images of each class to check the balance of the training set.
        print(x_train.shape, np.bincount(y_train))
        fig, axes = plt.subplots(2, 5)
        for k, ax in enumerate(axes.flat):
            ax.imshow(x_train[y_train == k][0], cmap="gray")  # the first example of class k
        """, 3, figure=True, text="(60000, 28, 28) [6000 6000 6000 6000 6000 6000 6000 6000 6000 6000]"),
        md("""
        The ten classes are perfectly balanced, with 6000 images each, so accuracy is a fair metric.
        Shirts, pullovers and coats look very similar at this resolution; I expect most errors there.
        """),
        md("""
        ## Model description and choices
        The model is a small convolutional network: three blocks of Conv2D layers with 3x3 kernels and
        ReLU activation, each followed by max pooling, then global average pooling, dropout and a dense
        softmax layer with ten units. I chose convolutions rather than a dense network because they share
        weights across the image, which keeps the parameter count far below the budget. I compared two
        widths (16 and 32 filters); the wider one was better by one point, a good trade-off for 60k
        parameters.
        """),
        code("""
        import keras
        from keras import layers

        def build_model(width: int = 32) -> keras.Model:
            \"\"\"Three conv blocks, then global pooling: few parameters, translation invariant.\"\"\"
            model = keras.Sequential([keras.Input((28, 28, 1))])
            for factor in (1, 2, 2):
                # Each block doubles the filters while pooling halves the resolution.
                model.add(layers.Conv2D(width * factor, 3, padding="same", activation="relu"))
                model.add(layers.MaxPooling2D())
            model.add(layers.GlobalAveragePooling2D())
            model.add(layers.Dropout(0.3))  # regularization: the training set is small for the task
            model.add(layers.Dense(10, activation="softmax"))
            return model

        model = build_model()
        model.summary()
        """, 4, text="Total params: 60,106"),
        md("""
        ## Training
        I train with Adam and early stopping on the validation loss, restoring the best weights.
        The learning curves below show the validation loss flattening after about 12 epochs while the
        training loss keeps decreasing: beyond that point the model starts to overfit.
        """),
        code("""
        # Stop when the validation loss has not improved for three epochs.
        stop = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x_train, y_train, validation_split=0.1, epochs=30, callbacks=[stop])
        plt.plot(history.history["loss"], label="train")
        plt.plot(history.history["val_loss"], label="validation")
        """, 5, figure=True, text="Epoch 1/30\n loss: 0.61 - val_loss: 0.41"),
        md("""
        ## Evaluation and discussion
        On the validation split the model reaches 91.2 % accuracy. The confusion matrix confirms the
        exploration: most errors are shirts predicted as T-shirts, pullovers or coats, and the model
        almost never confuses shoes with clothes. The main limit is the low resolution of these classes;
        a longer training with data augmentation could improve it, and in future work I would try
        depthwise separable convolutions to spend the parameter budget on more filters.
        """),
        code("""
        from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score
        # Predicted classes on the validation split, to compare with the true labels.
        y_pred = model.predict(x_val).argmax(axis=1)
        print(accuracy_score(y_val, y_pred))
        ConfusionMatrixDisplay.from_predictions(y_val, y_pred)
        """, 6, figure=True, text="0.912"),
    ])


def bare_notebook():
    """The same work with no prose and no comments, never executed."""
    return new_notebook(cells=[
        code("import numpy as np\nimport keras\nx = np.load('x.npy')\ny = np.load('y.npy')"),
        code("model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10)])"),
        code("model.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n"
             "model.fit(x, y, epochs=5)"),
        code("print(model.evaluate(x, y))"),
    ])


def stuffed_notebook():
    """One heading per section and keywords, but no real prose."""
    cells = [
        md("# Problem statement: task, goal, metric, accuracy"),
        md("## Data exploration: class balance, distribution, examples"),
        md("## Model description and choices: because since chose compared trade-off"),
        md("because since chose compared trade-off rather than therefore hence thus reason"),
        md("## Training: epochs, callbacks, learning curve, overfitting"),
        md("## Evaluation and discussion: confusion matrix, limits, improvements, future work"),
        md("limits improve could would future overfit bias mistakes weakness limits improve could"),
    ]
    return new_notebook(cells=cells + bare_notebook().cells)


def items(result: QualityResult) -> dict:
    return {item.key: item for item in result.items}


def test_explained_notebook_scores_clearly_above_a_bare_one():
    good = assess_quality(explained_notebook(), ran_ok=True)
    bare = assess_quality(bare_notebook(), ran_ok=True)
    assert good.estimate >= 0.75, good.to_markdown()
    assert bare.estimate <= 0.25, bare.to_markdown()
    assert good.fraction == good.estimate and good.manual is None


def test_every_item_is_present_capped_and_carries_evidence():
    for notebook in (explained_notebook(), bare_notebook(), stuffed_notebook(), new_notebook()):
        result = assess_quality(notebook, ran_ok=True)
        assert [i.key for i in result.items] == list(RUBRIC)
        assert sum(i.max_points for i in result.items) == pytest.approx(10.0)
        for item in result.items:
            assert 0 <= item.points <= item.max_points
            assert item.evidence.strip() and item.title
        assert 0 <= result.estimate <= 1


def test_evidence_quotes_what_was_found_and_what_is_missing():
    good = items(assess_quality(explained_notebook(), ran_ok=True))
    assert "heading 'Data exploration'" in good["exploration"].evidence
    assert "figure" in good["exploration"].evidence and "words commenting the data" in good["exploration"].evidence
    assert "choices motivated" in good["model"].evidence and "because" in good["model"].evidence
    assert "learning curve plotted" in good["training"].evidence
    assert "confusion" in good["evaluation"].evidence
    assert good["model"].points == good["model"].max_points

    bare = items(assess_quality(bare_notebook(), ran_ok=True))
    assert "missing" in bare["model"].evidence and "why this architecture" in bare["model"].evidence
    assert "missing" in bare["problem"].evidence
    assert bare["comments"].points == 0


def test_keyword_stuffing_scores_low():
    result = assess_quality(stuffed_notebook(), ran_ok=True)
    assert result.estimate <= 0.3, result.to_markdown()
    by_key = items(result)
    assert by_key["model"].points <= 0.5  # the parameter count at most: no prose motivates anything
    assert "ignored" in by_key["model"].evidence  # the keyword-only cell is named as ignored


def test_repeating_a_sentence_does_not_add_words():
    sentence = "The model is a small convolutional network with dropout layers chosen because of the budget. "
    once = new_notebook(cells=[md("## Model\n" + sentence)])
    many = new_notebook(cells=[md("## Model\n" + sentence * 12)])
    assert items(assess_quality(many, ran_ok=True))["model"].points == items(assess_quality(once, ran_ok=True))[
        "model"].points


def test_template_prose_earns_nothing():
    template = new_notebook(cells=[c for c in explained_notebook().cells if c.cell_type == "markdown"])
    copied = assess_quality(template, ran_ok=True, template=template)
    assert copied.estimate <= 0.05, copied.to_markdown()


def test_untouched_exam_template_scores_low_when_the_template_is_given():
    path = Path(__file__).resolve().parents[1] / "exam_template.ipynb"
    if not path.exists():
        pytest.skip("no exam template in this checkout")
    template = nbformat.read(path, as_version=4)
    alone = assess_quality(template, ran_ok=True)
    against_itself = assess_quality(template, ran_ok=True, template=path)
    assert against_itself.estimate <= 0.25 < alone.estimate, against_itself.to_markdown()


def test_student_prose_inside_the_exam_template_is_credited():
    """Students answer under the template's headings: those headings still delimit the sections."""
    path = Path(__file__).resolve().parents[1] / "exam_template.ipynb"
    if not path.exists():
        pytest.skip("no exam template in this checkout")
    notebook = nbformat.read(path, as_version=4)
    answers = [c for c in explained_notebook().cells if c.cell_type == "markdown"]
    for title, answer in zip(["Problem statement", "Data exploration", "What do you see", "The model",
                              "Training", "Evaluation and discussion"], answers):
        where = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown" and title in c.source)
        prose = "\n".join(line for line in answer.source.splitlines() if not line.startswith("#"))
        notebook.cells.insert(where + 1, md(prose))
    result = assess_quality(notebook, ran_ok=True, template=path)
    assert result.estimate >= 0.75, result.to_markdown()


def test_runs_item_needs_ran_ok_and_ordered_counts():
    ok = items(assess_quality(explained_notebook(), ran_ok=True))["runs"]
    failed = items(assess_quality(explained_notebook(), ran_ok=False))["runs"]
    assert ok.points == ok.max_points
    assert failed.points == 0 and "did not run" in failed.evidence

    shuffled = explained_notebook()
    code_cells = [c for c in shuffled.cells if c.cell_type == "code"]
    code_cells[1].execution_count, code_cells[3].execution_count = 9, 2
    late = items(assess_quality(shuffled, ran_ok=True))["runs"]
    assert 0 < late.points < late.max_points and "out of order" in late.evidence


def test_empty_notebook_scores_zero():
    result = assess_quality(new_notebook(), ran_ok=True)
    assert result.estimate == 0
    assert all(item.points == 0 for item in result.items)


def test_weird_cells_and_huge_outputs_do_not_crash():
    huge = code("for i in range(10**6):\n    print(i)", 1, text="Epoch 1/3\n" + "x" * 5_000_000)
    raw_json = {"cell_type": "code", "source": ["x = 1\n", "# a list source, as stored on disk\n"],
                "metadata": {}, "outputs": [{"output_type": "stream", "name": "stdout", "text": ["a", "b"]}],
                "execution_count": None}
    notebook = new_notebook(cells=[
        new_raw_cell("raw text: ignored"),
        new_markdown_cell(""),
        new_code_cell(""),
        new_markdown_cell("<h2>Results</h2><p>html</p>\n```python\nprint(1)\n```\n$$x^2$$"),
        code("%matplotlib inline\n!pip list\ndef broken(:\n    # unbalanced code still counts its comment lines"),
        code('"""unterminated docstring'),
        huge,
    ])
    notebook.cells.append(nbformat.from_dict(raw_json))
    notebook.cells.append(nbformat.from_dict({"cell_type": "markdown", "metadata": {}}))  # no source at all
    notebook.cells.append(nbformat.from_dict({"cell_type": "mystery", "source": None}))
    result = assess_quality(notebook, ran_ok=True)
    assert 0 <= result.estimate <= 1
    assert "epoch log" in items(result)["training"].evidence
    assert assess_quality({"cells": None}, ran_ok=False).estimate == 0


def test_trivial_and_commented_out_code_comments_do_not_count():
    notebook = new_notebook(cells=[code("""
        # imports
        import numpy as np
        # x = np.zeros((3, 3))
        # model.fit(x, y)
        y = np.ones(3)
        """)])
    comments = items(assess_quality(notebook, ran_ok=True))["comments"]
    assert comments.points == 0 and "0 meaningful" in comments.evidence


def test_italian_notebook_is_understood():
    notebook = new_notebook(cells=[md("""
        ## Modello
        Il modello è una rete convoluzionale con tre strati convoluzionali e dropout. Ho scelto questa
        architettura perché condivide i pesi, quindi resta sotto il budget di parametri; rispetto a una
        rete densa ha dato risultati migliori nei confronti sul validation set con meno neuroni.
        """)])
    model = items(assess_quality(notebook, ran_ok=True))["model"]
    assert "choices motivated" in model.evidence and model.points >= 1.5


# ------------------------------------------------------------------------------------------------
# Manual scores
# ------------------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "manual.csv"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_manual_csv_overrides_the_estimate(tmp_path):
    path = write(tmp_path, """
        student,quality,max,comment
        alice,17,20,"clear, well argued"
        bob,,20,
        """)
    scores = load_manual_scores(path)
    assert set(scores) == {"alice"}  # a blank quality means "not graded yet"
    assert scores["alice"].fraction == pytest.approx(0.85)
    assert scores["alice"].source == "manual.csv:2"
    result = assess_quality(bare_notebook(), ran_ok=True, manual=scores["alice"])
    assert result.manual == pytest.approx(0.85) and result.fraction == pytest.approx(0.85)
    assert result.estimate <= 0.25 and result.comment == "clear, well argued"
    assert "Instructor" in result.to_markdown()


def test_manual_csv_without_max_takes_fractions(tmp_path):
    scores = load_manual_scores(write(tmp_path, "student,quality\ncarol,0.5\ndave,1\n"))
    assert scores["carol"].fraction == 0.5 and scores["dave"].fraction == 1.0 and scores["dave"].comment == ""


def test_manual_csv_semicolons_and_decimal_commas(tmp_path):
    scores = load_manual_scores(write(tmp_path, "\ufeffStudent;Quality;Max\nerin;7,5;10\n"))
    assert scores["erin"].fraction == pytest.approx(0.75)


@pytest.mark.parametrize("body, problem", [
    ("student,quality\nalice,18\n", "line 2: quality '18' of 'alice' is above the maximum 1; without a 'max'"),
    ("student,quality\nalice,good\n", "line 2: quality 'good' of 'alice' is not a number"),
    ("student,quality\nalice,0.5\nbob,-0.1\n", "line 3: quality '-0.1' of 'bob' is negative"),
    ("student,quality,max\nalice,21,20\n", "line 2: quality '21' of 'alice' is above the maximum 20"),
    ("student,quality,max\nalice,5,\n", "line 2: max '' of 'alice' is not a number"),
    ("student,quality,max\nalice,5,0\n", "line 2: max '0' of 'alice' must be positive"),
    ("student,quality\nalice,nan\n", "line 2: quality 'nan' of 'alice' is not a number"),
    ("student,quality\n,0.5\n", "line 2: empty student name"),
    ("student,quality\nalice,0.5\nalice,0.6\n", "line 3: student 'alice' appears twice"),
    ("name,grade\nalice,0.5\n", "line 1: missing column(s) student, quality"),
    ("", "line 1: missing column(s) student, quality"),
])
def test_manual_csv_errors_name_file_line_and_problem(tmp_path, body, problem):
    path = write(tmp_path, body)
    with pytest.raises(ValueError) as error:
        load_manual_scores(path)
    assert str(path) in str(error.value) and problem in str(error.value)


def test_manual_score_fraction_is_clipped():
    assert ManualScore("x", 3, 2).fraction == 1.0


def test_nbgrader_manual_scores(tmp_path):
    api = pytest.importorskip("nbgrader.api")
    sqlalchemy = pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    # Create the tables first: a new gradebook would otherwise shell out to `alembic` (slow, needs PATH).
    api.Base.metadata.create_all(sqlalchemy.create_engine(url))
    with api.Gradebook(url) as gradebook:
        gradebook.add_assignment("exam")
        gradebook.add_notebook("report", "exam")
        gradebook.add_grade_cell("quality", "report", "exam", max_score=4, cell_type="markdown")
        gradebook.add_grade_cell("tests", "report", "exam", max_score=6, cell_type="code")
        for student in ("alice", "bob"):
            gradebook.add_student(student)
            gradebook.add_submission("exam", student)
            gradebook.find_grade("tests", "report", "exam", student).auto_score = 6
        gradebook.find_grade("quality", "report", "exam", "alice").manual_score = 3
        gradebook.db.commit()  # bob's quality cell is not graded yet
    scores = load_nbgrader_manual_scores(url, "exam")
    assert set(scores) == {"alice"}
    assert scores["alice"].fraction == pytest.approx(0.75)  # the autograded cell does not count
    with pytest.raises(ValueError, match="no assignment named 'other'"):
        load_nbgrader_manual_scores(url, "other")
    with pytest.raises(FileNotFoundError):
        load_nbgrader_manual_scores(f"sqlite:///{tmp_path / 'missing.db'}", "exam")


# ------------------------------------------------------------------------------------------------
# Figures: only the outputs handed in, and only real figures
# ------------------------------------------------------------------------------------------------


def figures_notebook(payloads: list[str], mime: str = "image/png"):
    """An exploration section whose plotting cell shows these images."""
    cell = code("import matplotlib.pyplot as plt\nplt.imshow(x_train[0])", 1)
    for payload in payloads:
        cell.outputs.append(new_output("display_data", data={mime: payload, "text/plain": "<Figure>"}))
    return new_notebook(cells=[md("## Data exploration"), cell])


def figure_points(payloads: list[str], mime: str = "image/png") -> tuple[float, str]:
    exploration = items(assess_quality(figures_notebook(payloads, mime), ran_ok=True))["exploration"]
    return exploration.points, exploration.evidence


def test_real_figures_count_and_the_evidence_says_they_were_handed_in():
    points, evidence = figure_points([figure_png(), figure_png()])
    assert "2 figure(s) (from the outputs you handed in)" in evidence
    assert points == pytest.approx(figure_points([])[0] + 0.2, abs=0.01)


@pytest.mark.parametrize("payloads", [
    pytest.param([PIXEL_PNG] * 50, id="1x1 PNG 50 times"),
    pytest.param([encode(Image.new("RGB", (1, 1), (k, 0, 0))) for k in range(50)], id="50 distinct 1x1 PNGs"),
    pytest.param([encode(Image.new("RGB", (640, 480), "white"))], id="flat white 640x480"),
    pytest.param([encode(Image.new("RGB", (640, 480), (30, 60, 90)), "JPEG")], id="flat JPEG"),
    pytest.param([encode(Image.new("RGBA", (640, 480), (0, 0, 0, 0)))], id="transparent"),
    pytest.param([encode(Image.linear_gradient("L").resize((90, 400)))], id="too narrow"),
    pytest.param(["not base64 at all!", "iVBORw0KGgo" + "A" * 1000], id="undecodable"),
    pytest.param([figure_png()[:200]], id="truncated PNG"),
])
def test_degenerate_images_earn_no_figure_points(payloads):
    points, evidence = figure_points(payloads)
    assert points == pytest.approx(figure_points([])[0])
    assert "figure(s)" not in evidence and "not counted" in evidence


def test_a_figure_repeated_counts_once_and_oversized_payloads_are_not_read():
    figure = figure_png()
    assert "1 figure(s)" in figure_points([figure] * 20)[1]
    big = Image.effect_noise((1500, 1500), 100).convert("RGB")  # ~6 MB of PNG: over the size limit
    points, evidence = figure_points([encode(big)])
    assert "figure(s) (" not in evidence


def test_svg_figures_need_drawing_elements():
    empty = '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"></svg>'
    drawn = empty.replace("></svg>", ">" + '<path d="M 0 0 L 10 10"/>' * 30 + "</svg>")
    assert "figure(s) (" not in figure_points([empty], "image/svg+xml")[1]
    assert "1 figure(s) (" in figure_points([drawn], "image/svg+xml")[1]


def test_evidence_from_stored_outputs_says_so():
    good = items(assess_quality(explained_notebook(), ran_ok=True))
    assert "(from the outputs you handed in)" in good["exploration"].evidence
    assert "from the outputs you handed in" in good["training"].evidence
    log_only = new_notebook(cells=[code("history = model.fit(x, y, epochs=3)", 1, text="Epoch 1/3\nloss: 0.5")])
    assert "epoch log (from the outputs you handed in" in items(assess_quality(log_only, ran_ok=True))[
        "training"].evidence


# ------------------------------------------------------------------------------------------------
# Explanations written as code comments
# ------------------------------------------------------------------------------------------------

COMMENTS_VS_MARKDOWN = 0.7  # the package docstring promises at least this fraction

SECTIONS = [  # (heading, explanation, code, outputs: figure?, text)
    ("# Fashion-MNIST under a parameter budget\n## Problem statement",
     "The task is to classify small grey-scale photos of clothes into ten classes with a Keras model of at "
     "most one hundred thousand parameters. Success is measured by the accuracy on a hidden test set, so "
     "the goal is a compact model that generalizes rather than one that memorizes the training split.",
     'DATA_DIR = "data/public"\nGRADING = False', False, ""),
    ("## Data exploration",
     "Before choosing a model I look at the arrays: their shapes, the number of images per class and a "
     "few examples of each class. Every class holds the same number of images, so the classes are "
     "balanced. Shirts and coats look alike at this resolution, which is where I expect mistakes.",
     "import numpy as np\nimport matplotlib.pyplot as plt\nx_train = np.load(f'{DATA_DIR}/x.npy')\n"
     "y_train = np.load(f'{DATA_DIR}/y.npy')\nprint(x_train.shape, np.bincount(y_train))\n"
     "plt.imshow(x_train[0])", True, "(50000, 28, 28) [5000 5000]"),
    ("## The model",
     "The network stacks three convolutional blocks of small kernels with max pooling, then global "
     "average pooling, dropout and a dense softmax layer. I chose convolutions because they share "
     "weights across the image, which keeps the parameter count low; compared with a dense network of "
     "the same size they were clearly better, a good trade-off for the budget.",
     "import keras\nfrom keras import layers\nmodel = keras.Sequential([keras.Input((28, 28, 1)), "
     "layers.Conv2D(32, 3), layers.MaxPooling2D(), layers.GlobalAveragePooling2D(), layers.Dropout(0.3), "
     "layers.Dense(10, activation='softmax')])\nmodel.summary()", False, "Total params: 60,106"),
    ("## Training",
     "Training uses the Adam optimizer with early stopping on the validation loss. The learning curves "
     "show the validation loss flattening after about twelve epochs while the training loss keeps "
     "falling, the usual sign of overfitting, so restoring the best weights matters.",
     "stop = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)\n"
     "history = model.fit(x_train, y_train, validation_split=0.1, epochs=30, callbacks=[stop])\n"
     "plt.plot(history.history['loss'])\nplt.plot(history.history['val_loss'])", True, "Epoch 1/30"),
    ("## Evaluation and discussion",
     "On the validation split the model reaches about ninety-one percent accuracy. The confusion matrix "
     "shows that most errors are shirts predicted as pullovers or coats, while shoes are almost never "
     "confused with clothes. The main limit is the low resolution; longer training with data "
     "augmentation could improve it, and in future work I would try separable convolutions.",
     "from sklearn.metrics import accuracy_score, confusion_matrix\ny_pred = model.predict(x_val).argmax(1)\n"
     "print(accuracy_score(y_val, y_pred))\nprint(confusion_matrix(y_val, y_pred))", False, "0.912"),
]


def sectioned_notebook(style: str):
    """The same notebook with its explanations as markdown cells, comment blocks or docstrings."""
    cells = []
    for count, (heading, explanation, source, figure, text) in enumerate(SECTIONS, start=1):
        cells.append(md(heading))
        lines = textwrap.wrap(explanation, 90)
        if style == "markdown":
            cells.append(md("\n".join(lines)))
        elif style == "comments":
            source = "\n".join("# " + line for line in lines) + "\n" + source
        else:  # a docstring: a string statement at the top of the cell
            source = '"""\n' + "\n".join(lines) + '\n"""\n' + source
        cells.append(code(source, count, figure=figure, text=text))
    return new_notebook(cells=cells)


PROSE_ITEMS = ("problem", "exploration", "model", "training", "evaluation")


def prose_points(result: QualityResult) -> float:
    return sum(item.points for item in result.items if item.key in PROSE_ITEMS)


@pytest.mark.parametrize("style", ["comments", "docstrings"])
def test_explanations_in_comments_score_like_markdown(style):
    as_markdown = assess_quality(sectioned_notebook("markdown"), ran_ok=True)
    as_comments = assess_quality(sectioned_notebook(style), ran_ok=True)
    assert as_markdown.estimate >= 0.75, as_markdown.to_markdown()
    assert as_comments.estimate >= COMMENTS_VS_MARKDOWN * as_markdown.estimate, as_comments.to_markdown()
    # not only thanks to the "comments" item: the prose items themselves
    assert prose_points(as_comments) >= COMMENTS_VS_MARKDOWN * prose_points(as_markdown), as_comments.to_markdown()


def test_explanations_in_comments_without_headings_still_count():
    notebook = sectioned_notebook("comments")
    notebook.cells = [c for c in notebook.cells if c.cell_type == "code"]
    result = assess_quality(notebook, ran_ok=True)
    assert result.estimate >= 0.6, result.to_markdown()


def test_comment_blocks_keep_the_guards():
    stuffed = "\n".join(["# because since chose compared trade-off rather than therefore hence thus"] * 2
                        + ["# limits improve could would future overfit bias mistakes weakness limits"])
    commented_out = "\n".join(["# model = keras.Sequential([layers.Dense(64), layers.Dense(10)])",
                               "# model.compile('adam', 'sparse_categorical_crossentropy')",
                               "# history = model.fit(x_train, y_train, epochs=10, validation_split=0.1)",
                               "# print(model.evaluate(x_val, y_val))"])
    repeated = "\n".join(["# The model is a small convolutional network with three blocks of filters."] * 8)
    for block in (stuffed, commented_out, repeated):
        notebook = new_notebook(cells=[md("## The model"), code(block + "\nmodel.summary()", 1)])
        model = items(assess_quality(notebook, ran_ok=True))["model"]
        assert model.points <= 0.45, (block, model.evidence)
    ignored = items(assess_quality(new_notebook(cells=[md("## The model"), code(stuffed + "\nx = 1")]),
                                   ran_ok=True))["model"]
    assert "ignored" in ignored.evidence
