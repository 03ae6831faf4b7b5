--
-- PostgreSQL database dump
--
SET client_encoding = 'UTF8';

COPY public.kunden (id, "Versichertennummer", "Nachname", "Vorname", "Geburtsdatum", "E-Mail", "Telefon") FROM stdin;
0	t085437568	Stein	Dirk	11.03.1971	dieter_friedrich5900@icloud.com	+491592090741
1	C900915463	Schneider	Lukas	21.12.1959	Lukas.Schneider.84@Yahoo.De	+49 (0)160/7846945
2	\N	Kaya	Andrea	01.02.1978	ANDREA.KAYA.211@OUTLOOK.DE	01519063464
3	S980 218 679	PETERS	Heike	09.09.1957	katharina_nowak8455@aol.com	\N
4	X509374272	Becker	Frieda	09.10.1933	frieda.becker.5@posteo.de	0172 1735882
5	A252760743	Nowak	Andreas	21.11.1951	andreas.nowak.132@gmail.com	+49 (0)163/2952401
6	F672028551	BRANDT	Kevin	28.10.1983	JAN_BUETTNER2022@MAILBOX.ORG	+49 (0)30/848052
7	O566716082	Wagner	Sabine	23.01.1936	SABINE.WAGNER.226@T-ONLINE.DE	\N
8	U861119554	Papadopoulos	Julian	09.09.2004	julian.papadopoulos.53@gmail.com	+49 (0)173/6841338
9	P248390122	Frank	Hans-Peter	13.09.1975	thomas_stein2032@proton.me	08966580941
10	P449434321	Braun	gisela	3.10.1938	Gisela.Braun.210@Gmx.De 	0160 9998767
11	L918561369	Lewandowski	André	24.12.2006	andre.lewandowski.274@posteo.de	+49 170 0139375
12	W610698031	Schmitt	Björn	18.11.1954	LEA_MEYER7670@ICLOUD.COM 	015941904665
13	D783633704	Schröder	Noah	31.08.1962	noah.schroeder.68@web.de	0160/2811793
14	G527020179	MÜLLER-LÜDENSCHEIDT	Uta	12.10.1980	uta.mueller-luedenscheidt.195@freenet.de	\N
15	F740877843	Martin	Emre	21.05.1943	katharina_krause8565@hotmail.de	\N
16	U840975514	Klein	Małgorzata	14.12.1964	malgorzata.klein.289@gmx.de	00491736109830
17	b135478984	Klein-Schäfer	Manfred	01.08.1954	manfred.klein-schaefer.116@freenet.de	0162/7917249
18	G421737298	Kaya	Kevin	30.03.1939	GERTRUD_GRAF6370@PROTON.ME	089 1600287
19	 P449434321 	Braun	Gisela	3.10.1938	gisela.braun.210@gmx.de	0160 9998767
20	V743837795	Hagen	Lea	21.5.2007	lea.hagen.37@posteo.de	0173 1806186
21	D344427794	kolb	Felix	13.12.1978	gisela_vogel8842@proton.me	+49175321069
22	 K057893130 	Schmitt	Andreas	23.07.1991	andreas.schmitt.131@t-online.de	+491723887704
23	m801279602	 Lehmann-Krüger	Kevin	\N	kevin.lehmann-krueger.258@yahoo.de	+49 163 5104223
24	E550 496 944	Krämer	GABRIELE	23.02.2000	Jerome_boehm6327@Hotmail.De	0176/86320894
25	E666351946	Lehmann	TOBIAS	11.05.1965	tobias.lehmann.52@gmail.com	+491577776641
26	v723693756	Krause	José	25.08.1967	jose.krause.273@yahoo.de	+49 173 1074678
27	X558089468	paul	CHLOÉ	15.12.1976	dennis_lehmann-krueger9197@arcor.de	+49 89 331383
28	V723693756	 Krause	José 	25.08.1967	jose.krause.273@yahoo.de	+49 173 1074678
29	c018197228	Reuter	Martin	11.04.1957	martin.reuter.100@yahoo.de	\N
30	F585 945 194	Hoffmann	Matthias	15.01.1979	sabine_mueller6800@icloud.com	0176 1554722
31	Q332152566	Köhler	birgit	13.06.1941	birgit.koehler.194@t-online.de 	00491604963615
32	W626556039	Eßer	KATHARINA	29.01.1931	katharina.esser.21@yahoo.de	+49 (0)172/6771034
33	t624374375	Dietrich	GISELA	22.8.1964	nele_reuter4334@icloud.com	+49175670904
34	D082136228	Schmitt	Dirk	28.4.2001	melanie_kuehn7835@arcor.de	\N
35	n683997844	blümel	Jens	14.05.1933	\N	0163/0069071
36	L216315256	Albrecht	DIETER	23.03.1946	sabine_wolff6995@arcor.de	+49 89 5087463
37	O095204850	Otto	Sören	20.07.1982	zeynep_lehmann454@proton.me	01747399811
38	 I292456655 	Weißenborn	Jörn	03.03.1986	joern.weissenborn.163@posteo.de	0173 3958008
39	O112815196	Fischer	Lieselotte	10.10.2001	jonas_kramer907@aol.com	0049890742652
\.
