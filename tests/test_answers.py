"""Answer extraction: many response styles, each with the answer and the method expected."""

import pytest

from livr.answers import extract_answer, extract_answer_with_method

CHOICE = "localization"  # any choice task; extraction does not depend on which

LETTER_CASES = [
    # (response, n_choices, expected answer, expected method)
    ("A", None, "A", "exact"),
    ("b", None, "B", "exact"),
    ("(B)", None, "B", "exact"),
    ("B.", None, "B", "exact"),
    ("  C  \n", None, "C", "exact"),
    ("[D]", None, "D", "exact"),
    ("**B**", None, "B", "exact"),
    ("(a)", 2, "A", "exact"),
    ("The answer is B", None, "B", "answer_phrase"),
    ("The answer is B.", None, "B", "answer_phrase"),
    ("Answer: (C) the second image", None, "C", "answer_phrase"),
    ("**Answer:** D", None, "D", "answer_phrase"),
    ("The correct answer is (A).", None, "A", "answer_phrase"),
    ("Option D", None, "D", "answer_phrase"),
    ("The answer is option C.", None, "C", "answer_phrase"),
    ("I choose A", None, "A", "answer_phrase"),
    ("I would go with B because it is darker.", None, "B", "answer_phrase"),
    ("The answer is A because the left point is darker.", None, "A", "answer_phrase"),
    ("A cat is on the left, so the answer is B", None, "B", "answer_phrase"),
    ("Looking at (A) and (B), the answer is (B).", None, "B", "answer_phrase"),
    ("answer: b.", None, "B", "answer_phrase"),
    ("Final answer: C", 3, "C", "answer_phrase"),
    ("It has to be (C) about the same.", 3, "C", "paren_letter"),
    ("The marked box matches the object best, so (B) Box B.", 2, "B", "paren_letter"),
    ("Based on the image, A", None, "A", "standalone_letter"),
    ("B. The second image continues the scene.", None, "B", "standalone_letter"),
    ("Point C corresponds to the reference point.", 4, "C", "standalone_letter"),
    ("A is darker.", None, "A", "standalone_letter"),
    ("A) the first image", 2, "A", "standalone_letter"),
    ("A small red box is drawn at the top. It is B", None, "B", "standalone_letter"),
    ("In image A, the surface is brighter", None, "A", "standalone_letter"),
    # No answer, or more than one.
    ("A or B", None, None, "unparsable"),
    ("Answer: A or B", None, None, "unparsable"),
    ("(A) or (B)", None, None, "unparsable"),
    ("A is darker than B", None, None, "unparsable"),
    ("I cannot tell", None, None, "unparsable"),
    ("", None, None, "unparsable"),
    ("A cat sits on a mat.", None, None, "unparsable"),
    ("The answer is a cat", None, None, "unparsable"),
    ("E.g. the left image looks older.", None, None, "unparsable"),
    ("It is an A-frame house.", None, None, "unparsable"),
    ("Both are Bob's photos.", None, None, "unparsable"),
    # Out of range for the task's choices.
    ("E", 4, None, "unparsable"),
    ("The answer is (E)", 4, None, "unparsable"),
    ("C", 2, None, "unparsable"),
    ("E", None, "E", "exact"),
]

COUNT_CASES = [
    ("3", "3", "exact"),
    ("12.", "12", "exact"),
    ("ten", "10", "exact"),
    ("Three.", "3", "exact"),
    ("zero", "0", "exact"),
    ("twenty", "20", "exact"),
    ("Twenty-one", "21", "exact"),
    ("The answer is 4", "4", "answer_phrase"),
    ("Answer: seven", "7", "answer_phrase"),
    ("I count a few chairs; the total is 6.", "6", "answer_phrase"),
    ("There are 5 dogs in the image.", "5", "integer"),
    ("I see three (3) cups.", "3", "integer"),
    ("There are eleven apples.", "11", "number_word"),
    ("I can see fourteen birds", "14", "number_word"),
    ("There are 3 or 4 chairs.", None, "unparsable"),
    ("two cats and 3 dogs", None, "unparsable"),
    ("I cannot count them.", None, "unparsable"),
    ("About 2.5 on average", None, "unparsable"),
    ("5-6 people", None, "unparsable"),
    ("A", None, "unparsable"),
]


@pytest.mark.parametrize("response, n_choices, answer, method", LETTER_CASES)
def test_choice_answers(response, n_choices, answer, method):
    assert extract_answer_with_method(response, CHOICE, n_choices) == (answer, method)
    assert extract_answer(response, CHOICE, n_choices) == answer


@pytest.mark.parametrize("response, answer, method", COUNT_CASES)
def test_counting_answers(response, answer, method):
    assert extract_answer_with_method(response, "counting") == (answer, method)


def test_counting_reads_numbers_not_letters():
    # "A" is a choice for choice tasks but means nothing for counting, and vice versa.
    assert extract_answer("There are 4 of them", "jigsaw") is None
    assert extract_answer("B", "counting") is None


def test_unknown_task_and_bad_n_choices_are_errors():
    with pytest.raises(ValueError, match="unknown task 'count'.*counting"):
        extract_answer("A", "count")
    with pytest.raises(ValueError, match="n_choices is 6"):
        extract_answer("A", CHOICE, 6)
