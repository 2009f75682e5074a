def line_positions(text):
    """The property a "line-length" unit tracks: how many characters have been read since the last newline.

        position[t] = 0 when text[t] is a newline, else position[t - 1] + 1   (position[-1] = 0)

    so the first character of the text and of every line is 1, the newline that ends a line is 0.

        "ab\ncd" -> [1, 2, 0, 1, 2]

    Args:
        text: a str of N characters.

    Returns:
        position: (N,) floats.
    """
    position, column = np.zeros(len(text)), 0
    for t, ch in enumerate(text):
        column = 0 if ch == "\n" else column + 1      # count first, then store
        position[t] = column
    return position

line_positions = exercises.check("line_positions", line_positions)
