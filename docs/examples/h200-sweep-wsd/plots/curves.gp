set terminal svg size 760,480 dynamic enhanced font 'Helvetica,12' background '#ffffff'
set border lw 1 lc '#444444'
set grid lc '#dddddd' lw 1
set key outside right top box lc '#bbbbbb'
set format x '10^{%L}'
set output 'curves.svg'
set logscale x
set xlabel 'tokens seen'
set ylabel 'training loss'
set title 'Training curves'
plot 'curves.dat' index 0 using 1:2 with lines lw 1.2 dt 1 lc rgb '#0072B2' title 'C = 1e+14', \
  'curves.dat' index 1 using 1:2 with lines lw 1.2 dt 2 lc rgb '#0072B2' notitle, \
  'curves.dat' index 2 using 1:2 with lines lw 1.2 dt 3 lc rgb '#0072B2' notitle, \
  'curves.dat' index 3 using 1:2 with lines lw 1.2 dt 4 lc rgb '#0072B2' notitle, \
  'curves.dat' index 4 using 1:2 with lines lw 1.2 dt 5 lc rgb '#0072B2' notitle, \
  'curves.dat' index 5 using 1:2 with lines lw 1.2 dt 1 lc rgb '#E69F00' title 'C = 2.38e+14', \
  'curves.dat' index 6 using 1:2 with lines lw 1.2 dt 2 lc rgb '#E69F00' notitle, \
  'curves.dat' index 7 using 1:2 with lines lw 1.2 dt 3 lc rgb '#E69F00' notitle, \
  'curves.dat' index 8 using 1:2 with lines lw 1.2 dt 4 lc rgb '#E69F00' notitle, \
  'curves.dat' index 9 using 1:2 with lines lw 1.2 dt 5 lc rgb '#E69F00' notitle, \
  'curves.dat' index 10 using 1:2 with lines lw 1.2 dt 1 lc rgb '#009E73' title 'C = 5.66e+14', \
  'curves.dat' index 11 using 1:2 with lines lw 1.2 dt 2 lc rgb '#009E73' notitle, \
  'curves.dat' index 12 using 1:2 with lines lw 1.2 dt 3 lc rgb '#009E73' notitle, \
  'curves.dat' index 13 using 1:2 with lines lw 1.2 dt 4 lc rgb '#009E73' notitle, \
  'curves.dat' index 14 using 1:2 with lines lw 1.2 dt 5 lc rgb '#009E73' notitle, \
  'curves.dat' index 15 using 1:2 with lines lw 1.2 dt 1 lc rgb '#D55E00' title 'C = 1.345e+15', \
  'curves.dat' index 16 using 1:2 with lines lw 1.2 dt 2 lc rgb '#D55E00' notitle, \
  'curves.dat' index 17 using 1:2 with lines lw 1.2 dt 3 lc rgb '#D55E00' notitle, \
  'curves.dat' index 18 using 1:2 with lines lw 1.2 dt 4 lc rgb '#D55E00' notitle, \
  'curves.dat' index 19 using 1:2 with lines lw 1.2 dt 5 lc rgb '#D55E00' notitle, \
  'curves.dat' index 20 using 1:2 with lines lw 1.2 dt 1 lc rgb '#CC79A7' title 'C = 3.2e+15', \
  'curves.dat' index 21 using 1:2 with lines lw 1.2 dt 2 lc rgb '#CC79A7' notitle, \
  'curves.dat' index 22 using 1:2 with lines lw 1.2 dt 3 lc rgb '#CC79A7' notitle, \
  'curves.dat' index 23 using 1:2 with lines lw 1.2 dt 4 lc rgb '#CC79A7' notitle, \
  'curves.dat' index 24 using 1:2 with lines lw 1.2 dt 5 lc rgb '#CC79A7' notitle
