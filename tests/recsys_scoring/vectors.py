"""Vectors of the 7-painting test catalogue, chosen so the numbers are easy to check by hand.

With painting 0 rated, eq. 1 scores are the cosine with painting 0, i.e. the x coordinate of
each painting's unit vector below:

    painting     0     1     2     3     4     5     6
    lda x        1   0.96  0.8   0.6   0.28   0     0      (6: (0, -1), ties with 5)
    resnet x     1   0.28   0    0.6   0.96  0.8    -      (6 has no image: not in resnet)

so lda ranks 1, 2, 3, 4, 5, 6 and resnet ranks 4, 5, 3, 1, 2: painting 3 is third for both.
"""

LDA = [(1, 0), (0.96, 0.28), (0.8, 0.6), (0.6, 0.8), (0.28, 0.96), (0, 1), (0, -1)]
RESNET = [(1, 0), (0.28, 0.96), (0, 1), (0.6, 0.8), (0.96, 0.28), (0.8, 0.6)]
