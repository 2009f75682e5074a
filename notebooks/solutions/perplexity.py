def perplexity(mean_loss):
    """From a mean cross-entropy in nats per token (what temporal_softmax_loss returns):

        perplexity    = e ** mean_loss            (the effective number of equally likely choices)
        bits_per_char = mean_loss / ln(2)         (the same loss in base 2; for a character model)

    Args:
        mean_loss: a float, nats per token.

    Returns:
        perplexity, bits_per_char: two floats.
    """
    return math.exp(mean_loss), mean_loss / math.log(2)


perplexity = exercises.check("perplexity", perplexity)
