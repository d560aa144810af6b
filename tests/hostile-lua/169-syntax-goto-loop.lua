::a:: goto a --!
