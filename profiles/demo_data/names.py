"""Demo data: reference tables (countries, cities, name pools, streets, nicknames, spellings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True, kw_only=True)
class City:
    """A city people live in, with what its addresses and landlines look like."""

    name: str
    state_code: str
    state_name: str
    postcodes: tuple[str, ...]  # patterns: "#" a digit, "@" a letter
    area_codes: tuple[str, ...]  # landline prefixes (without trunk 0) taking 7 more digits
    tz: str
    weight: float


@dataclass(frozen=True, kw_only=True)
class Country:
    """A country of the retailer's customers: calling code, currency, names, cities."""

    code: str
    share: float
    calling_code: str
    currency: str
    mobile_share: float
    mobile_prefixes: tuple[str, ...]
    male_names: tuple[str, ...]
    female_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    house_number_first: bool
    email_domains: tuple[str, ...]
    email_domain_weights: tuple[float, ...]
    spellings: tuple[str, ...]  # ways the country is written in a CRM, the ISO code first
    spelling_weights: tuple[float, ...]
    cities: tuple[City, ...]


US_ZONES = {"ET": "America/New_York", "CT": "America/Chicago", "PT": "America/Los_Angeles"}


def _cities(*rows: tuple[Any, ...], tz: str = "", postcode_suffix: str = "") -> tuple[City, ...]:
    """Cities from rows (name, state code, state, "postcode patterns", "area codes", weight[, tz]).

    Postcode patterns are space-separated and each gets `postcode_suffix`; a row's own time
    zone (or US_ZONES abbreviation) overrides `tz`.
    """
    return tuple(
        City(
            name=row[0],
            state_code=row[1],
            state_name=row[2],
            postcodes=tuple(f"{p}{postcode_suffix}" for p in row[3].split()),
            area_codes=tuple(row[4].split()),
            tz=US_ZONES.get(row[6], row[6]) if len(row) > 6 else tz,
            weight=float(row[5]),
        )
        for row in rows
    )


US = Country(
    code="US",
    share=0.40,
    calling_code="1",
    currency="USD",
    mobile_share=0.0,
    mobile_prefixes=(),
    male_names=_split(
        "James, Robert, John, Michael, William, David, Richard, Joseph, Thomas, Christopher,"
        " Charles, Daniel, Matthew, Anthony, Mark, Donald, Steven, Paul, Andrew, Joshua, Kenneth,"
        " Kevin, Brian, George, Timothy, Ronald, Edward, Jason, Jeffrey, Ryan, Jacob, Gary,"
        " Nicholas, Eric, Jonathan, Stephen, Larry, Justin, Scott, Brandon, Benjamin, Samuel,"
        " Gregory, Alexander, Patrick, Frank, Raymond, Jack, Dennis, Jerry"
    ),
    female_names=_split(
        "Mary, Patricia, Jennifer, Linda, Elizabeth, Barbara, Susan, Jessica, Sarah, Karen, Lisa,"
        " Nancy, Betty, Margaret, Sandra, Ashley, Kimberly, Emily, Donna, Michelle, Carol, Amanda,"
        " Dorothy, Melissa, Deborah, Stephanie, Rebecca, Sharon, Laura, Cynthia, Kathleen, Amy,"
        " Angela, Shirley, Anna, Brenda, Pamela, Emma, Nicole, Helen, Samantha, Katherine,"
        " Christine, Debra, Rachel, Carolyn, Janet, Catherine, Maria, Heather"
    ),
    last_names=_split(
        "Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez,"
        " Hernandez, Lopez, Gonzalez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin,"
        " Lee, Perez, Thompson, White, Harris, Sanchez, Clark, Ramirez, Lewis, Robinson, Walker,"
        " Young, Allen, King, Wright, Scott, Torres, Nguyen, Hill, Flores, Green, Adams, Nelson,"
        " Baker, Hall, Rivera, Campbell, Mitchell, Carter, Roberts, Gomez, Phillips, Evans,"
        " Turner, Diaz, Parker, Cruz, Edwards, Collins, Reyes, Stewart, Morris, Morales, Murphy,"
        " Cook, Rogers, Gutierrez, Ortiz, Morgan, Cooper, Peterson, Bailey, Reed, Kelly, Howard,"
        " Ramos, Kim, Cox, Ward, Richardson, O'Brien, Sullivan, McCarthy, Bennett, Brooks"
    ),
    streets=_split(
        "Main St, Oak St, Maple Ave, Cedar St, Pine St, Elm St, Washington St, Lake Ave,"
        " Park Ave, 2nd St, 3rd St, Broadway, Sunset Blvd, Highland Ave, Church St, Madison Ave,"
        " Lincoln Ave, Jefferson St, Adams St, River Rd, Hillside Dr, Franklin St, Union St"
    ),
    house_number_first=True,
    email_domains=_split("gmail.com, yahoo.com, outlook.com, hotmail.com, icloud.com, aol.com"),
    email_domain_weights=(0.45, 0.15, 0.12, 0.1, 0.12, 0.06),
    spellings=_split("US, United States, USA, usa, U.S., united states, United States of America"),
    spelling_weights=(0.45, 0.2, 0.2, 0.05, 0.04, 0.04, 0.02),
    cities=_cities(
        ("New York", "NY", "New York", "100## 101## 102## 112##", "212 718 917 646", 8, "ET"),
        ("Los Angeles", "CA", "California", "900## 913##", "213 310 323", 5, "PT"),
        ("Chicago", "IL", "Illinois", "606##", "312 773", 4, "CT"),
        ("Houston", "TX", "Texas", "770##", "713 832", 3, "CT"),
        ("Phoenix", "AZ", "Arizona", "850##", "602 480", 2, "America/Phoenix"),
        ("Philadelphia", "PA", "Pennsylvania", "191##", "215 267", 2, "ET"),
        ("San Francisco", "CA", "California", "941##", "415", 2, "PT"),
        ("Seattle", "WA", "Washington", "981##", "206", 2, "PT"),
        ("Boston", "MA", "Massachusetts", "021##", "617", 2, "ET"),
        ("Miami", "FL", "Florida", "331##", "305 786", 2, "ET"),
        ("Denver", "CO", "Colorado", "802##", "303 720", 1.5, "America/Denver"),
        ("Atlanta", "GA", "Georgia", "303##", "404 678", 1.5, "ET"),
    ),
)

DE = Country(
    code="DE",
    share=0.25,
    calling_code="49",
    currency="EUR",
    mobile_share=0.55,
    mobile_prefixes=_split(
        "1511, 1512, 1516, 1520, 1522, 160, 170, 171, 172, 1761, 1762, 1771, 178, 179"
    ),
    male_names=_split(
        "Thomas, Michael, Andreas, Stefan, Christian, Peter, Klaus, Wolfgang, Jürgen, Frank,"
        " Markus, Matthias, Alexander, Sebastian, Daniel, Jan, Tobias, Florian, Johannes,"
        " Maximilian, Lukas, Felix, Jonas, Paul, Leon, Tim, Uwe, Dieter, Ralf, Sven, Dirk, Bernd,"
        " Hans, Günter, Horst, Martin, Philipp, Simon, David, Moritz, Niklas, Julian, Benjamin,"
        " Fabian, Patrick, Oliver, Heinz, Karl, Friedrich, Jörg"
    ),
    female_names=_split(
        "Sabine, Claudia, Susanne, Petra, Andrea, Stefanie, Nicole, Julia, Katharina, Anna, Laura,"
        " Lea, Sarah, Lena, Maria, Ursula, Monika, Karin, Renate, Birgit, Sandra, Melanie,"
        " Christina, Martina, Elisabeth, Anja, Lisa, Hannah, Sophie, Emma, Mia, Franziska,"
        " Johanna, Carina, Jana, Vanessa, Jennifer, Heike, Gabriele, Ingrid, Brigitte, Helga,"
        " Kerstin, Silke, Tanja, Katrin, Nadine, Jessica, Magdalena, Marie"
    ),
    last_names=_split(
        "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann,"
        " Schäfer, Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann,"
        " Braun, Krüger, Hofmann, Hartmann, Lange, Schmitt, Werner, Schmitz, Krause, Meier,"
        " Lehmann, Schmid, Schulze, Maier, Köhler, Herrmann, König, Walter, Mayer, Huber, Kaiser,"
        " Fuchs, Peters, Lang, Scholz, Möller, Weiß, Jung, Hahn, Schubert, Vogel, Friedrich,"
        " Keller, Günther, Frank, Berger, Winkler, Roth, Beck, Lorenz, Baumann, Franke, Albrecht,"
        " Schuster, Simon, Ludwig, Böhm, Winter, Kraus, Martin, Schumacher, Krämer, Vogt, Stein,"
        " Jäger, Otto, Sommer, Groß, Seidel, Heinrich"
    ),
    streets=_split(
        "Hauptstraße, Bahnhofstraße, Gartenstraße, Schulstraße, Dorfstraße, Bergstraße,"
        " Lindenstraße, Kirchstraße, Goethestraße, Schillerstraße, Friedrichstraße, Am Markt,"
        " Mozartweg, Birkenweg, Ringstraße, Wiesenweg, Parkallee, Kastanienallee, Rosenstraße"
    ),
    house_number_first=False,
    email_domains=_split("gmail.com, gmx.de, web.de, t-online.de, outlook.de, yahoo.de"),
    email_domain_weights=(0.3, 0.25, 0.2, 0.12, 0.08, 0.05),
    spellings=_split("DE, Germany, germany, Deutschland, GERMANY, de"),
    spelling_weights=(0.45, 0.25, 0.1, 0.12, 0.04, 0.04),
    cities=_cities(
        ("Berlin", "BE", "Berlin", "10### 12### 13###", "30", 6),
        ("Hamburg", "HH", "Hamburg", "20### 22###", "40", 4),
        ("München", "BY", "Bayern", "80### 81###", "89", 4),
        ("Köln", "NW", "Nordrhein-Westfalen", "50### 51###", "221", 3),
        ("Frankfurt am Main", "HE", "Hessen", "60###", "69", 2.5),
        ("Stuttgart", "BW", "Baden-Württemberg", "70###", "711", 2),
        ("Düsseldorf", "NW", "Nordrhein-Westfalen", "40###", "211", 2),
        ("Leipzig", "SN", "Sachsen", "04###", "341", 1.5),
        ("Dortmund", "NW", "Nordrhein-Westfalen", "44###", "231", 1.5),
        ("Bremen", "HB", "Bremen", "28###", "421", 1),
        tz="Europe/Berlin",
    ),
)

GB = Country(
    code="GB",
    share=0.15,
    calling_code="44",
    currency="GBP",
    mobile_share=0.6,
    mobile_prefixes=("740", "750", "770", "780", "790", "791", "795"),
    male_names=_split(
        "Oliver, George, Harry, Jack, Jacob, Charlie, Thomas, James, William, Joshua, Daniel,"
        " Samuel, Benjamin, Alexander, Edward, Henry, Joseph, Matthew, Christopher, David, Andrew,"
        " Richard, Robert, Michael, Paul, Mark, Stephen, Simon, Peter, John, Ian, Gary, Lee,"
        " Craig, Stuart, Callum, Ryan, Liam, Connor, Lewis, Jamie, Adam, Luke, Nathan, Owen,"
        " Ethan, Harvey, Alfie, Archie, Oscar"
    ),
    female_names=_split(
        "Olivia, Amelia, Isla, Ava, Emily, Sophie, Grace, Lily, Jessica, Chloe, Charlotte, Ellie,"
        " Hannah, Lucy, Emma, Sarah, Laura, Rebecca, Rachel, Victoria, Katherine, Elizabeth,"
        " Margaret, Helen, Claire, Louise, Nicola, Joanne, Gemma, Amy, Kirsty, Lauren, Megan,"
        " Holly, Zoe, Abigail, Eleanor, Alice, Harriet, Poppy, Freya, Evie, Niamh, Siobhan, Fiona,"
        " Alison, Gillian, Karen, Susan, Jennifer"
    ),
    last_names=_split(
        "Smith, Jones, Williams, Taylor, Brown, Davies, Evans, Wilson, Thomas, Johnson, Roberts,"
        " Robinson, Thompson, Wright, Walker, White, Edwards, Hughes, Green, Hall, Lewis, Harris,"
        " Clarke, Patel, Jackson, Wood, Turner, Martin, Cooper, Hill, Ward, Morris, Moore, Clark,"
        " Lee, King, Baker, Harrison, Morgan, Allen, James, Scott, Phillips, Watson, Davis,"
        " Parker, Price, Bennett, Young, Griffiths, Mitchell, Kelly, Cook, Carter, Richardson,"
        " Bailey, Collins, Bell, Shaw, Murphy, Miller, Cox, Richards, Khan, Marshall, Anderson,"
        " Simpson, Ellis, Adams, Singh, Wilkinson, Foster, Chapman, Powell, Webb, Rogers, Gray,"
        " Mason, Hunt, Campbell, MacDonald, O'Neill"
    ),
    streets=_split(
        "High Street, Station Road, Main Street, Park Road, Church Road, Church Street,"
        " London Road, Victoria Road, Green Lane, Manor Road, Church Lane, Park Avenue,"
        " The Avenue, Queens Road, New Road, Grange Road, Kings Road, Albert Road, Mill Lane"
    ),
    house_number_first=True,
    email_domains=_split(
        "gmail.com, hotmail.co.uk, outlook.com, yahoo.co.uk, btinternet.com, sky.com, icloud.com"
    ),
    email_domain_weights=(0.4, 0.15, 0.12, 0.1, 0.09, 0.06, 0.08),
    spellings=_split("GB, United Kingdom, UK, uk, Great Britain, united kingdom"),
    spelling_weights=(0.4, 0.25, 0.2, 0.05, 0.05, 0.05),
    cities=_cities(
        (
            "London",
            "LND",
            "Greater London",
            "SW1A SW3 SW11 E1 E14 N1 NW3 W1 W2 SE1 EC1",
            "207 208",
            7,
        ),
        ("Manchester", "MAN", "Greater Manchester", "M1 M4 M14 M20", "161", 2.5),
        ("Birmingham", "BIR", "West Midlands", "B1 B5 B15 B29", "", 2.5),
        ("Leeds", "LDS", "West Yorkshire", "LS1 LS6 LS11", "", 1.5),
        ("Glasgow", "GLG", "Glasgow City", "G1 G3 G12", "141", 1.5),
        ("Liverpool", "LIV", "Merseyside", "L1 L8 L17", "151", 1.2),
        ("Edinburgh", "EDH", "City of Edinburgh", "EH1 EH3 EH10", "", 1.2),
        ("Bristol", "BST", "Bristol", "BS1 BS6 BS8", "", 1.2),
        tz="Europe/London",
        postcode_suffix=" #@@",
    ),
)

FR = Country(
    code="FR",
    share=0.10,
    calling_code="33",
    currency="EUR",
    mobile_share=0.6,
    mobile_prefixes=("61", "62", "64", "65", "66", "67", "68", "73", "75", "76", "77", "78"),
    male_names=_split(
        "Jean, Pierre, Michel, André, Philippe, René, Louis, Alain, Jacques, Bernard, Marcel,"
        " Daniel, Roger, Robert, Paul, Claude, Christian, Henri, Georges, Nicolas, François,"
        " Patrick, Éric, Frédéric, Laurent, Stéphane, Julien, Christophe, Sébastien, David,"
        " Thomas, Alexandre, Olivier, Vincent, Maxime, Antoine, Guillaume, Romain, Hugo, Lucas,"
        " Théo, Nathan, Mathis, Enzo, Léo, Gabriel, Arthur, Raphaël, Jules, Baptiste"
    ),
    female_names=_split(
        "Marie, Jeanne, Françoise, Monique, Catherine, Nathalie, Isabelle, Sylvie, Martine,"
        " Christine, Sophie, Valérie, Sandrine, Céline, Aurélie, Julie, Camille, Laura, Manon,"
        " Chloé, Léa, Emma, Inès, Jade, Louise, Alice, Lina, Sarah, Anne, Claire, Élodie, Émilie,"
        " Hélène, Caroline, Véronique, Brigitte, Nicole, Chantal, Dominique, Patricia, Stéphanie,"
        " Virginie, Pauline, Mathilde, Charlotte, Clémence, Margaux, Juliette, Zoé, Océane"
    ),
    last_names=_split(
        "Martin, Bernard, Thomas, Petit, Robert, Richard, Durand, Dubois, Moreau, Laurent, Simon,"
        " Michel, Lefebvre, Leroy, Roux, David, Bertrand, Morel, Fournier, Girard, Bonnet,"
        " Dupont, Lambert, Fontaine, Rousseau, Vincent, Muller, Lefèvre, Faure, André, Mercier,"
        " Blanc, Guérin, Boyer, Garnier, Chevalier, François, Legrand, Gauthier, Garcia, Perrin,"
        " Robin, Clément, Morin, Nicolas, Henry, Roussel, Mathieu, Gautier, Masson, Marchand,"
        " Duval, Denis, Dumont, Lemaire, Noël, Meyer, Dufour, Meunier, Brun, Blanchard, Giraud,"
        " Joly, Rivière, Lucas, Brunet, Gaillard, Barbier, Arnaud, Martinez, Gérard, Roche,"
        " Renard, Schmitt, Roy, Leroux, Colin, Vidal, Caron, Picard"
    ),
    streets=_split(
        "rue de la République, avenue Jean Jaurès, rue Pasteur, boulevard Voltaire,"
        " rue du Moulin, place de la Mairie, rue de l'Église, chemin des Vignes, rue Nationale,"
        " avenue de la Gare, rue des Écoles, rue du Château, rue Saint-Martin,"
        " allée des Tilleuls, impasse des Lilas, rue Gambetta, rue Victor Hugo"
    ),
    house_number_first=True,
    email_domains=_split("gmail.com, orange.fr, free.fr, laposte.net, hotmail.fr, sfr.fr"),
    email_domain_weights=(0.4, 0.2, 0.12, 0.1, 0.12, 0.06),
    spellings=_split("FR, France, france, FRANCE, fr"),
    spelling_weights=(0.45, 0.35, 0.1, 0.05, 0.05),
    cities=_cities(
        ("Paris", "IDF", "Île-de-France", "7500# 7501#", "14 15 13 17", 8),
        ("Marseille", "PAC", "Provence-Alpes-Côte d'Azur", "130##", "49 48", 3),
        ("Lyon", "ARA", "Auvergne-Rhône-Alpes", "6900#", "47 42", 3),
        ("Toulouse", "OCC", "Occitanie", "310##", "56 53", 2),
        ("Nice", "PAC", "Provence-Alpes-Côte d'Azur", "060##", "43 49", 1.5),
        ("Nantes", "PDL", "Pays de la Loire", "440##", "24 25", 1.5),
        ("Strasbourg", "GES", "Grand Est", "670##", "38 36", 1.2),
        ("Bordeaux", "NAQ", "Nouvelle-Aquitaine", "330##", "55 57", 1.5),
        ("Lille", "HDF", "Hauts-de-France", "590##", "32 33", 1.5),
        tz="Europe/Paris",
    ),
)

NL = Country(
    code="NL",
    share=0.10,
    calling_code="31",
    currency="EUR",
    mobile_share=0.6,
    mobile_prefixes=("61", "62", "63", "64", "65", "68"),
    male_names=_split(
        "Jan, Johannes, Cornelis, Hendrik, Willem, Pieter, Gerrit, Jacobus, Dirk, Jacob,"
        " Adrianus, Gerardus, Petrus, Antonius, Maarten, Daan, Sem, Lucas, Levi, Finn, Milan,"
        " Jesse, Thijs, Bram, Ruben, Lars, Tim, Thomas, Joris, Stijn, Niels, Bas, Koen, Jeroen,"
        " Mark, Dennis, Sander, Martijn, Wouter, Erik, Kees, Henk, Bert, Rob, Frank, Peter, Paul,"
        " Mike, Kevin, Rick"
    ),
    female_names=_split(
        "Maria, Johanna, Anna, Cornelia, Wilhelmina, Elisabeth, Hendrika, Catharina, Geertruida,"
        " Adriana, Emma, Julia, Sophie, Tess, Zoë, Lotte, Sara, Eva, Fleur, Lisa, Femke, Sanne,"
        " Anouk, Iris, Lieke, Marieke, Ingrid, Annemarie, Esther, Linda, Sandra, Monique, Petra,"
        " Wendy, Kim, Nicole, Laura, Inge, Karin, Marjolein, Saskia, Mirjam, Ellen, Astrid,"
        " Yvonne, Ilse, Manon, Noor, Roos, Margriet"
    ),
    last_names=_split(
        "de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit, Meijer,"
        " de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker, Brouwer,"
        " de Wit, Dijkstra, Smits, de Graaf, van der Meer, van der Linden, Kok, Jacobs, de Haan,"
        " Vermeulen, van den Heuvel, van der Veen, van den Broek, de Bruijn, de Bruin,"
        " van der Heijden, Schouten, van Beek, Willems, van Vliet, van de Ven, Hoekstra, Maas,"
        " Verhoeven, Koster, van Dam, van der Wal, Prins, Blom, Huisman, Peeters, de Jonge,"
        " Kuipers, van Veen, Post, Kuiper, Veenstra, Kramer, van den Brink, Scholten, van Wijk,"
        " Postma, Martens, Vink, de Ruiter, Timmermans, Groen, Gerritsen, Jonker, van Loon"
    ),
    streets=_split(
        "Kerkstraat, Schoolstraat, Molenstraat, Dorpsstraat, Stationsweg, Julianastraat,"
        " Beatrixstraat, Nieuwstraat, Marktstraat, Wilhelminastraat, Prinsengracht,"
        " Keizersgracht, Herengracht, Oranjestraat, Kastanjelaan, Eikenlaan, Hoofdstraat"
    ),
    house_number_first=False,
    email_domains=_split("gmail.com, hotmail.com, ziggo.nl, kpnmail.nl, outlook.com, live.nl"),
    email_domain_weights=(0.35, 0.2, 0.15, 0.12, 0.1, 0.08),
    spellings=_split("NL, Netherlands, The Netherlands, Nederland, netherlands, Holland"),
    spelling_weights=(0.45, 0.2, 0.12, 0.12, 0.06, 0.05),
    cities=_cities(
        ("Amsterdam", "NH", "Noord-Holland", "10##", "20", 5),
        ("Rotterdam", "ZH", "Zuid-Holland", "30##", "10", 3),
        ("Den Haag", "ZH", "Zuid-Holland", "25##", "70", 2.5),
        ("Utrecht", "UT", "Utrecht", "35##", "30", 2),
        ("Eindhoven", "NB", "Noord-Brabant", "56##", "40", 1.5),
        ("Groningen", "GR", "Groningen", "97##", "50", 1),
        ("Tilburg", "NB", "Noord-Brabant", "50##", "13", 1),
        tz="Europe/Amsterdam",
        postcode_suffix=" @@",
    ),
)

COUNTRIES: tuple[Country, ...] = (US, DE, GB, FR, NL)

# Common short forms: a duplicate CRM record may carry one of these instead of the given name.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"),
    "William": ("Bill", "Will", "Billy"),
    "Katherine": ("Kate", "Katie", "Kathy"),
    "Catherine": ("Cathy", "Cat"),
    "Margaret": ("Peggy", "Maggie", "Meg"),
    "Elizabeth": ("Liz", "Beth", "Betty", "Lizzie"),
    "Elisabeth": ("Lisa", "Sissi", "Lies"),
    "James": ("Jim", "Jimmy"),
    "Michael": ("Mike", "Micha"),
    "Richard": ("Rick", "Dick", "Rich"),
    "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris",),
    "Christian": ("Chris",),
    "Christophe": ("Chris",),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Matthias": ("Matze", "Matti"),
    "Anthony": ("Tony",),
    "Joseph": ("Joe", "Joey"),
    "Jennifer": ("Jen", "Jenny"),
    "Patricia": ("Pat", "Patty", "Trish"),
    "Susan": ("Sue", "Susie"),
    "Susanne": ("Susi",),
    "Deborah": ("Debbie", "Deb"),
    "Rebecca": ("Becky", "Becca"),
    "Samantha": ("Sam",),
    "Samuel": ("Sam",),
    "Jessica": ("Jess",),
    "Alexander": ("Alex", "Sasha"),
    "Alexandre": ("Alex",),
    "Benjamin": ("Ben",),
    "Edward": ("Ed", "Ted", "Eddie"),
    "Nicholas": ("Nick",),
    "Nicolas": ("Nico",),
    "Jonathan": ("Jon",),
    "Victoria": ("Vicky", "Tori"),
    "Charlotte": ("Lottie",),
    "Andrew": ("Andy", "Drew"),
    "Andreas": ("Andi",),
    "Steven": ("Steve",),
    "Stephen": ("Steve",),
    "David": ("Dave",),
    "Charles": ("Charlie", "Chuck"),
    "Timothy": ("Tim",),
    "Kenneth": ("Ken",),
    "Gregory": ("Greg",),
    "Johannes": ("Hans", "Jan", "Johan"),
    "Katharina": ("Kathi", "Kati"),
    "Stefanie": ("Steffi",),
    "Franziska": ("Franzi",),
    "Magdalena": ("Lena",),
    "Friedrich": ("Fritz",),
    "Maximilian": ("Max",),
    "Wolfgang": ("Wolf",),
    "Frédéric": ("Fred",),
    "Dominique": ("Dom",),
    "Isabelle": ("Isa",),
    "Wilhelmina": ("Mien", "Wilma"),
    "Cornelis": ("Kees",),
    "Jacobus": ("Koos", "Jaap"),
    "Hendrik": ("Henk",),
    "Johanna": ("Hanna", "Jo"),
    "Cornelia": ("Corrie", "Nel"),
    "Gerardus": ("Gerard",),
    "Petrus": ("Piet",),
    "Antonius": ("Toon", "Ton"),
    "Adrianus": ("Arie", "Adrie"),
}

MONTH_NAMES: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/123.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.4 Mobile/15E148 Safari/604.1",
)

# Accented letters folded the way people type them into an email address.
ASCII_FOLD = str.maketrans(
    {
        "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "ê": "e", "ë": "e",
        "à": "a", "â": "a", "ç": "c", "î": "i", "ï": "i", "ô": "o", "û": "u", "ù": "u",
        "É": "e", "Î": "i", "Ö": "oe", "Ü": "ue", "Ä": "ae", " ": "", "'": "", "-": "",
    }
)  # fmt: skip
