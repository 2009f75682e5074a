def numerical_gradient(f, x, eps=1e-05):
    """The numerical gradient of a scalar function by central differences, one entry at a time:

        grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

    where e_i is 1 at entry i and 0 elsewhere. Perturb x in place (np.nditer or x.reshape(-1) for any
    shape) and put each entry back to its exact old value: x must be unchanged when you return.

    Args:
        f: a function of one array returning a float.  x: float64 array of any shape.  eps: the step.

    Returns:
        grad: shaped like x.
    """
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)    # views: writing flat_x changes x
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + eps
        f_plus = f(x)
        flat_x[i] = old - eps
        f_minus = f(x)
        flat_x[i] = old                                    # restore exactly
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad

numerical_gradient = exercises.check("numerical_gradient", numerical_gradient)
