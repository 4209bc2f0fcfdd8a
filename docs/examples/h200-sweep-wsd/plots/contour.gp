set terminal svg size 760,480 dynamic enhanced font 'Helvetica,12' background '#ffffff'
set border lw 1 lc '#444444'
set grid lc '#dddddd' lw 1
set key outside right top box lc '#bbbbbb'
set format x '10^{%L}'
set output 'contour.svg'
unset format
set xrange [4.904640824:8.958238625]
set yrange [6.306677101:8.863610125]
set table 'contour_lines.dat'
set contour base
set cntrparam levels auto 14
unset surface
set view map
splot 'contour.dat' index 0 using 1:2:3 with lines notitle
unset table
unset contour
set surface
set xlabel 'log_{10} non-embedding parameters N'
set ylabel 'log_{10} D (tokens)'
set cblabel 'predicted loss'
set palette defined (0 '#2c7bb6', 1 '#abd9e9', 2 '#ffffbf', 3 '#fdae61', 4 '#d7191c')
set title 'Parametric loss L(N, D) with the efficient frontier'
plot 'contour.dat' index 0 using 1:2:3 with image notitle, \
  'contour_lines.dat' using 1:2 with lines lc rgb '#555555' lw 0.7 title 'contours', \
  'contour.dat' index 1 using 1:2 with lines lw 2.5 lc rgb '#000000' title 'efficient frontier', \
  'contour.dat' index 2 using 1:2 with points pt 6 ps 0.9 lc rgb '#000000' title 'runs', \
  'contour.dat' index 3 using 1:2 with points pt 5 ps 1.4 lc rgb '#000000' title 'target'
